from __future__ import annotations

from gateway.errors import BadRequest
from gateway.kit import validate


def customer_match(email: str | None, client_id: str | None) -> tuple[str | None, str | None]:
    """Records reach a customer's portal by email or client id; at least one is needed."""
    clean_email = validate.email(email) if email else None
    clean_client = validate.client_id(client_id)
    if clean_email is None and clean_client is None:
        raise BadRequest("Give an email or a clientId so the record reaches its customer.")
    return clean_email, clean_client
