from __future__ import annotations

from tests.portal.conftest import tenant

__all__ = ["tenant"]

from tests.failure.conftest import _private_postgres_server, private_postgres

__all__ += ["_private_postgres_server", "private_postgres"]

from tests.dashboard.conftest import dgw, start_dashboard, team  # noqa: E402

__all__ += ["dgw", "start_dashboard", "team"]
