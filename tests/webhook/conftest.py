from __future__ import annotations

from tests.portal.conftest import tenant

__all__ = ["tenant"]
