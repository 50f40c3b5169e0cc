from __future__ import annotations

import base64
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import ColumnElement, and_, or_

from gateway.errors import BadRequest

MAX_PAGE = 100
Cursor = tuple[datetime, uuid.UUID]  # (created_at, id) of the last row seen


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    raw = f"{created_at.timestamp():.6f}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


INVALID_CURSOR = ("Invalid cursor: pass a cursor or pageInfo.endCursor from an earlier page "
                  "of the same list, or leave `after` out for the first page.")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The position a cursor names. Anything a client can send either decodes to a
    real instant and id or is a BadRequest: `inf`, `1e300` and the like pass float()
    but overflow datetime (OverflowError, or OSError on some platforms)."""
    from gateway.kit.time import from_unix

    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        ts, row_id = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
        return from_unix(float(ts)), uuid.UUID(row_id)
    except (ValueError, UnicodeError, OverflowError, OSError):
        raise BadRequest(INVALID_CURSOR, field="after") from None


def newest_first_after(model: Any, after: tuple[datetime, uuid.UUID]) -> ColumnElement[bool]:
    """Rows after the cursor in (created_at desc, id desc) order: keyset pagination,
    so a page costs the same wherever it is and new rows do not shift pages."""
    created, row_id = after
    return or_(model.created_at < created,
               and_(model.created_at == created, model.id < row_id))


def check_page_size(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise BadRequest(f"first must be between 1 and {MAX_PAGE}.")
    return first


class Keyed(Protocol):
    @property
    def created_at(self) -> datetime: ...

    @property
    def id(self) -> uuid.UUID: ...


RowT = TypeVar("RowT", bound=Keyed)


@dataclass(frozen=True, slots=True)
class Page(Generic[RowT]):
    items: list[RowT]
    has_next_page: bool

    @classmethod
    def of(cls, rows: list[RowT], first: int) -> Page[RowT]:
        """`rows` was fetched with limit first + 1: the extra row only says there is more."""
        return cls(items=rows[:first], has_next_page=len(rows) > first)

    @classmethod
    async def read(cls, first: int, after: str | None,
                   fetch: Callable[[int, Cursor | None], Awaitable[list[RowT]]],
                   ) -> Page[RowT]:
        """A page of a newest-first list: `first` checked, the `after` cursor decoded
        (BAD_REQUEST when malformed), and `fetch(limit, after)` asked for one row more
        than the page, which only says there is more."""
        check_page_size(first)
        cursor = decode_cursor(after) if after else None
        return cls.of(await fetch(first + 1, cursor), first)

    def with_cursors(self) -> list[tuple[RowT, str]]:
        return [(row, encode_cursor(row.created_at, row.id)) for row in self.items]

    @property
    def end_cursor(self) -> str | None:
        last = self.items[-1] if self.items else None
        return encode_cursor(last.created_at, last.id) if last else None
