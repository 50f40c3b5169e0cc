"""The signed link against an independent HMAC computation (contract section 2)."""

from __future__ import annotations

import hashlib
import hmac
import string
from urllib.parse import urlencode

import pytest

from gateway.errors import PortalLinkExpired, PortalLinkInvalid
from gateway.kit.time import FrozenClock
from gateway.signing.link import LINK_TTL_SECONDS, PortalLinkSigner

NEW = "newest-secret-0123456789abcdefghijklmnop"
OLD = "older-secret-0123456789abcdefghijklmnopqr"
NOW = 1_776_679_200  # 2026-04-20T10:00:00Z
COMPANY = "acct_123"
CUSTOMER = "cus_01hzy4k6p4w9y2x7e2z7n8a2xm"


def independent_signature(secret: str, company: str, customer: str, expires: int) -> str:
    message = b"v1\n" + company.encode() + b"\n" + customer.encode() + b"\n" + str(expires).encode()
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def query(company: str, customer: str, expires: int | str, signature: str) -> str:
    return urlencode({"company": company, "customer": customer, "expires": expires,
                      "signature": signature})


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def signer(clock: FrozenClock) -> PortalLinkSigner:
    return PortalLinkSigner([NEW, OLD], clock, skew_seconds=60)


class TestIssue:
    def test_signature_equals_an_independent_hmac(self, signer: PortalLinkSigner) -> None:
        link = signer.issue(COMPANY, CUSTOMER)
        assert link.expires == NOW + 86_400
        assert link.signature == independent_signature(NEW, COMPANY, CUSTOMER, NOW + 86_400)

    def test_signs_with_the_newest_secret(self, signer: PortalLinkSigner) -> None:
        link = signer.issue(COMPANY, CUSTOMER)
        assert link.signature != independent_signature(OLD, COMPANY, CUSTOMER, link.expires)

    def test_query_has_the_reference_parameter_order(self, signer: PortalLinkSigner) -> None:
        link = signer.issue(COMPANY, CUSTOMER)
        assert link.query() == (
            f"company={COMPANY}&customer={CUSTOMER}&expires={NOW + 86_400}&signature={link.signature}"
        )


class TestVerify:
    def test_accepts_its_own_link(self, signer: PortalLinkSigner) -> None:
        link = signer.issue(COMPANY, CUSTOMER)
        verified = signer.verify(link.query())
        assert (verified.company_id, verified.customer_uid, verified.expires) == (
            COMPANY, CUSTOMER, NOW + 86_400)

    def test_accepts_a_link_signed_with_an_older_secret(self, signer: PortalLinkSigner) -> None:
        expires = NOW + 3600
        signature = independent_signature(OLD, COMPANY, CUSTOMER, expires)
        assert signer.verify(query(COMPANY, CUSTOMER, expires, signature)).expires == expires

    def test_rejects_a_secret_that_was_rotated_out(self, clock: FrozenClock) -> None:
        old_link = PortalLinkSigner([OLD], clock).issue(COMPANY, CUSTOMER)
        with pytest.raises(PortalLinkInvalid):
            PortalLinkSigner([NEW], clock).verify(old_link.query())

    def test_every_single_character_change_is_rejected(self, signer: PortalLinkSigner) -> None:
        link = signer.issue(COMPANY, CUSTOMER)
        fields = {"company": COMPANY, "customer": CUSTOMER, "expires": str(link.expires),
                  "signature": link.signature}
        alphabet = string.ascii_letters + string.digits + "_"
        tried = 0
        for name, value in fields.items():
            for position in range(len(value)):
                for replacement in {alphabet[(alphabet.index(value[position]) + 1) % len(alphabet)],
                                    "0" if value[position] != "0" else "1"}:
                    changed = value[:position] + replacement + value[position + 1:]
                    tampered = {**fields, name: changed}
                    with pytest.raises((PortalLinkInvalid, PortalLinkExpired)) as caught:
                        signer.verify(urlencode(tampered))
                    # Only a genuine signature may learn that it expired.
                    assert caught.type is PortalLinkInvalid, (name, changed)
                    tried += 1
        assert tried > 2 * (len(COMPANY) + len(CUSTOMER) + 64)

    def test_expired_link_is_expired_not_invalid(self, signer: PortalLinkSigner, clock: FrozenClock) -> None:
        link = signer.issue(COMPANY, CUSTOMER)
        clock.advance(LINK_TTL_SECONDS)
        with pytest.raises(PortalLinkExpired):
            signer.verify(link.query())

    def test_valid_one_second_before_expiry(self, signer: PortalLinkSigner, clock: FrozenClock) -> None:
        link = signer.issue(COMPANY, CUSTOMER)
        clock.advance(LINK_TTL_SECONDS - 1)
        assert signer.verify(link.query()) == link

    def test_rejects_expiry_too_far_in_the_future(self, signer: PortalLinkSigner) -> None:
        expires = NOW + 86_400 + 61
        signature = independent_signature(NEW, COMPANY, CUSTOMER, expires)
        with pytest.raises(PortalLinkInvalid):
            signer.verify(query(COMPANY, CUSTOMER, expires, signature))

    def test_accepts_expiry_within_the_clock_skew(self, signer: PortalLinkSigner) -> None:
        expires = NOW + 86_400 + 60
        signature = independent_signature(NEW, COMPANY, CUSTOMER, expires)
        assert signer.verify(query(COMPANY, CUSTOMER, expires, signature)).expires == expires

    @pytest.mark.parametrize(
        "raw",
        [
            "",
            "company=acct_123",
            f"company={COMPANY}&customer={CUSTOMER}&expires=1&signature=" + "a" * 64 + "&extra=1",
            f"company={COMPANY}&company={COMPANY}&customer={CUSTOMER}&expires=1&signature=" + "a" * 64,
            f"company={COMPANY}&customer={CUSTOMER}&expires=-5&signature=" + "a" * 64,
            f"company={COMPANY}&customer={CUSTOMER}&expires=1e9&signature=" + "a" * 64,
            f"company={COMPANY}&customer={CUSTOMER}&expires=1&signature=" + "A" * 64,
            f"company={COMPANY}&customer={CUSTOMER.upper()}&expires=1&signature=" + "a" * 64,
            f"company=acct_&customer={CUSTOMER}&expires=1&signature=" + "a" * 64,
            f"company={COMPANY}&customer={CUSTOMER}&expires=1&signature=" + "a" * 63,
            "x" * 2000,
        ],
    )
    def test_malformed_queries_are_invalid(self, signer: PortalLinkSigner, raw: str) -> None:
        with pytest.raises(PortalLinkInvalid):
            signer.verify(raw)

    def test_needs_a_secret(self, clock: FrozenClock) -> None:
        with pytest.raises(ValueError, match="secret"):
            PortalLinkSigner([], clock)
