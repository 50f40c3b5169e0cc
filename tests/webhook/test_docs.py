"""docs/webhooks.md's Python verification snippet, run against a real delivery."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import WebhookVerificationError

from gateway.webhook.listen import signature_valid
from tests.portal.conftest import Tenant
from tests.webhook.support import create_endpoint, receiver, worker_for

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def snippet() -> dict[str, Any]:
    text = DOC.read_text()
    section = text.split("## Verifying a signature", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), str(DOC), "exec"), namespace)  # noqa: S102 (our own document)
    return namespace


async def test_the_documented_verification_accepts_a_delivery_and_refuses_a_forgery(
    tenant: Tenant,
) -> None:
    verify = snippet()["verify"]
    async with receiver() as recv, worker_for(tenant.gw) as worker:
        _, secret = await create_endpoint(tenant, recv.url)
        await tenant.portal('mutation { updatePortalDisplayName(name: "Ada K") { name } }')
        await worker.drain()

    [request] = recv.requests
    event = verify(secret, request.body, request.headers)
    assert event["type"] == "customer.updated"
    assert signature_valid(secret, request.headers, request.body)
    tampered = request.body.replace(b"Ada K", b"Eve K")
    with pytest.raises(WebhookVerificationError):
        verify(secret, tampered, request.headers)
    assert not signature_valid(secret, request.headers, tampered)
    _, other_secret = await create_endpoint(tenant, recv.url)
    with pytest.raises(WebhookVerificationError):
        verify(other_secret, request.body, request.headers)
