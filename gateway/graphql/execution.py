"""Root query fields run one after another.

A request's resolvers share one AsyncSession (built once in the Context), and an
AsyncSession allows one operation at a time: two root query fields that both reach
the database, run concurrently as graphql-core does by default, fail with "This
session is provisioning a new connection; concurrent operations are not permitted".
Mutation fields are serial by the spec already; this makes query root fields serial
too. Nested fields keep graphql-core's default."""

from __future__ import annotations

from typing import Any

from graphql.pyutils import AwaitableOrValue
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class SerialRootExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def execute_fields(self, parent_type: Any, source_value: Any, path: Any,
                       *args: Any, **kwargs: Any) -> AwaitableOrValue[dict[str, Any]]:
        if path is None:
            return self.execute_fields_serially(parent_type, source_value, path, *args, **kwargs)
        return super().execute_fields(parent_type, source_value, path, *args, **kwargs)
