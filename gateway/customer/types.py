from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, TypeVar

import strawberry
from strawberry.scalars import JSON

from gateway.customer.repository import CustomerRecord
from gateway.graphql.scalars import text_id
from gateway.kit.cursor import Page, RowT
from gateway.models import Customer as CustomerModel


@strawberry.type(description="A merchant's customer.")
class Customer:
    id: strawberry.ID = strawberry.field(description="The customer's UUID.")
    uid: str = strawberry.field(description="The customer's UID, cus_ followed by a ULID.")
    email: str
    name: str | None
    client_id: str | None = strawberry.field(description="The merchant's own id for the customer.")
    metadata: JSON = strawberry.field(description="The merchant's JSON object.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, row: CustomerModel) -> Customer:
        return cls(**customer_fields(row))


def customer_fields(row: CustomerModel | CustomerRecord) -> dict[str, Any]:
    return {
        "id": text_id(row.id),
        "uid": row.uid,
        "email": row.email,
        "name": row.name,
        "client_id": row.client_id,
        "metadata": row.metadata_,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


@strawberry.type
class CustomerEdge:
    cursor: str
    node: Customer


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


NodeT = TypeVar("NodeT")
EdgeT = TypeVar("EdgeT")
ConnectionT = TypeVar("ConnectionT")
NodeT_contra = TypeVar("NodeT_contra", contravariant=True)
EdgeT_co = TypeVar("EdgeT_co", covariant=True)
ConnectionT_co = TypeVar("ConnectionT_co", covariant=True)


class EdgeType(Protocol[NodeT_contra, EdgeT_co]):
    def __call__(self, *, cursor: str, node: NodeT_contra) -> EdgeT_co: ...


class ConnectionType(Protocol[EdgeT, ConnectionT_co]):
    def __call__(self, *, edges: list[EdgeT], page_info: PageInfo) -> ConnectionT_co: ...


def connection(connection_type: ConnectionType[EdgeT, ConnectionT], edge_type: EdgeType[NodeT, EdgeT],
               node: Callable[[RowT], NodeT], page: Page[RowT]) -> ConnectionT:
    """A page of a newest-first list as its GraphQL connection: an edge a row, with the
    row's cursor and `node(row)`, and the page info."""
    return connection_type(
        edges=[edge_type(cursor=cursor, node=node(row)) for row, cursor in page.with_cursors()],
        page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor))


@strawberry.type
class CustomerConnection:
    edges: list[CustomerEdge]
    page_info: PageInfo


@strawberry.input(description="A new customer. Only email is required.")
class CreateCustomerInput:
    email: str
    name: str | None = None
    client_id: str | None = None
    metadata: JSON | None = None


@strawberry.input(description="Fields to change; omitted fields stay, null clears.")
class UpdateCustomerInput:
    name: str | None = strawberry.UNSET
    client_id: str | None = strawberry.UNSET
    metadata: JSON | None = strawberry.UNSET
