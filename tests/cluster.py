"""The store's tests on a Redis Cluster too: a module opts in with
`from tests.cluster import backend_with_cluster`, which replaces its `backend`
fixture with one that adds the postgres-cluster backend (a cluster of three
primaries and three replicas, started once per run by conftest.redis_cluster_url)."""

from __future__ import annotations

import pytest

from tests.conftest import BACKENDS

WITH_CLUSTER = [*BACKENDS, pytest.param(("postgres", "cluster"), id="postgres-cluster")]


@pytest.fixture(name="backend", params=WITH_CLUSTER)
def backend_with_cluster(request: pytest.FixtureRequest) -> tuple[str, str]:
    value: tuple[str, str] = request.param
    return value
