from __future__ import annotations

import re
import secrets
import string
import uuid

from gateway.kit.ulid import new_ulid_bytes, ulid_text

COMPANY_ID_RE = re.compile(r"acct_[A-Za-z0-9_]{1,64}")
CUSTOMER_UID_RE = re.compile(r"cus_[0-9a-hjkmnp-tv-z]{26}")
API_KEY_ID_RE = re.compile(r"mk_makepay_[0-9A-Za-z]{24,64}")
UUID_RE = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_BASE62 = string.digits + string.ascii_letters


def new_company_id() -> str:
    return "acct_" + ulid_text(new_ulid_bytes())


def new_customer_uid() -> str:
    return "cus_" + ulid_text(new_ulid_bytes())


def new_uuid() -> uuid.UUID:
    return uuid.uuid4()


def new_api_key_id() -> str:
    return "mk_makepay_" + "".join(secrets.choice(_BASE62) for _ in range(28))


def new_api_key_secret() -> str:
    return secrets.token_urlsafe(32)


def is_company_id(value: str) -> bool:
    return COMPANY_ID_RE.fullmatch(value) is not None


def is_customer_uid(value: str) -> bool:
    return CUSTOMER_UID_RE.fullmatch(value) is not None


def parse_uuid(value: str) -> uuid.UUID | None:
    if UUID_RE.fullmatch(value) is None:
        return None
    return uuid.UUID(value)
