"""The shape the services share: built on the request's session and the clock, with
the repository they read and write through. A service subclasses `Service`, names
its `repository`, and adds its own arguments after these two."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.kit.time import Clock

RepoT = TypeVar("RepoT")


class Service(Generic[RepoT]):
    repository: Callable[[AsyncSession], RepoT]

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.session = session
        self.repo = self.repository(session)
        self.clock = clock
