"""Property tests of the link verifier: nothing but a correctly signed, live link is
accepted, and whatever else comes in is refused as PORTAL_LINK_INVALID (only a link
we really signed may learn that it expired)."""

from __future__ import annotations

import string
from urllib.parse import urlencode

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from gateway.errors import PortalLinkExpired, PortalLinkInvalid
from gateway.kit.ids import COMPANY_ID_RE, CUSTOMER_UID_RE
from gateway.kit.time import FrozenClock
from gateway.signing.link import LINK_TTL_SECONDS, PortalLinkSigner, SignedLink, sign

NOW = 1_790_000_000
SECRETS = ["property-signing-secret-newest-0123456789", "property-signing-secret-older-0123456789"]
signer = PortalLinkSigner(SECRETS, FrozenClock(NOW), skew_seconds=60)

companies = st.from_regex(COMPANY_ID_RE, fullmatch=True)
customers = st.from_regex(CUSTOMER_UID_RE, fullmatch=True)
expiries = st.integers(NOW + 1, NOW + LINK_TTL_SECONDS + 60)
PARAMS = ("company", "customer", "expires", "signature")


@st.composite
def signed_links(draw: st.DrawFn) -> SignedLink:
    company, customer, expires = draw(companies), draw(customers), draw(expiries)
    secret = draw(st.sampled_from(SECRETS))
    return SignedLink(company, customer, expires, sign(secret, company, customer, expires))


def fields(link: SignedLink) -> dict[str, str]:
    return {"company": link.company_id, "customer": link.customer_uid,
            "expires": str(link.expires), "signature": link.signature}


@given(signed_links())
def test_a_correctly_signed_live_link_is_accepted(link: SignedLink) -> None:
    assert signer.verify(link.query()) == link


@given(st.one_of(companies, st.text()), st.one_of(customers, st.text()), expiries,
       st.one_of(st.from_regex(r"[0-9a-f]{64}", fullmatch=True), st.text()))
def test_a_links_query_is_what_urlencode_writes(company: str, customer: str, expires: int,
                                                signature: str) -> None:
    link = SignedLink(company, customer, expires, signature)
    assert link.query() == urlencode({"company": company, "customer": customer,
                                      "expires": str(expires), "signature": signature})


@given(signed_links(), st.data())
def test_any_one_character_changed_is_refused(link: SignedLink, data: st.DataObject) -> None:
    query = link.query()
    at = data.draw(st.integers(0, len(query) - 1))
    char = data.draw(st.characters(codec="utf-8", exclude_characters=query[at]))
    with pytest.raises(PortalLinkInvalid):
        signer.verify(query[:at] + char + query[at + 1:])


@given(signed_links(), st.data())
def test_a_character_added_or_removed_is_refused(link: SignedLink, data: st.DataObject) -> None:
    query = link.query()
    at = data.draw(st.integers(0, len(query) - 1))
    char = data.draw(st.sampled_from(string.ascii_letters + string.digits + "_&=%+"))
    with pytest.raises(PortalLinkInvalid):
        signer.verify(query[:at] + query[at + 1:])
    with pytest.raises(PortalLinkInvalid):
        signer.verify(query[:at] + char + query[at:])


@given(signed_links(), st.sampled_from(PARAMS), st.data())
def test_any_field_replaced_by_another_well_formed_value_is_refused(
    link: SignedLink, name: str, data: st.DataObject,
) -> None:
    other = {
        "company": companies, "customer": customers, "expires": expiries.map(str),
        "signature": st.from_regex(r"[0-9a-f]{64}", fullmatch=True),
    }[name]
    values = fields(link)
    replacement = data.draw(other)
    assume(replacement != values[name])
    values[name] = replacement
    with pytest.raises(PortalLinkInvalid):
        signer.verify(urlencode(values))


@given(st.text(max_size=600))
def test_random_query_strings_are_refused(query: str) -> None:
    with pytest.raises(PortalLinkInvalid):
        signer.verify(query)


@given(st.dictionaries(st.sampled_from([*PARAMS, "x", "Company", "sig"]), st.text(max_size=80),
                       max_size=6))
def test_random_parameter_sets_are_refused(values: dict[str, str]) -> None:
    with pytest.raises(PortalLinkInvalid):
        signer.verify(urlencode(values))


@given(signed_links(), st.sampled_from(PARAMS), st.booleans())
def test_a_duplicated_parameter_is_refused(link: SignedLink, name: str, same: bool) -> None:
    value = fields(link)[name] if same else "0"
    with pytest.raises(PortalLinkInvalid):
        signer.verify(f"{link.query()}&{name}={value}")


@given(signed_links(), st.text(string.ascii_lowercase, min_size=1, max_size=12), st.text(max_size=20))
def test_an_extra_parameter_is_refused(link: SignedLink, name: str, value: str) -> None:
    assume(name not in PARAMS)
    with pytest.raises(PortalLinkInvalid):
        signer.verify(f"{link.query()}&{urlencode({name: value})}")


@given(signed_links(), st.permutations(PARAMS))
def test_parameter_order_does_not_matter(link: SignedLink, order: list[str]) -> None:
    values = fields(link)
    assert signer.verify(urlencode([(name, values[name]) for name in order])) == link


@given(signed_links())
def test_an_uppercase_signature_is_refused(link: SignedLink) -> None:
    assume(link.signature != link.signature.upper())
    values = fields(link) | {"signature": link.signature.upper()}
    with pytest.raises(PortalLinkInvalid):
        signer.verify(urlencode(values))


@given(companies, customers, expiries, st.text(min_size=1, max_size=64))
def test_a_link_signed_with_an_unknown_secret_is_refused(
    company: str, customer: str, expires: int, secret: str,
) -> None:
    assume(secret not in SECRETS)
    link = SignedLink(company, customer, expires, sign(secret, company, customer, expires))
    with pytest.raises(PortalLinkInvalid):
        signer.verify(link.query())


@given(companies, customers, st.integers(1, NOW))
def test_a_signed_link_in_the_past_is_expired(company: str, customer: str, expires: int) -> None:
    link = SignedLink(company, customer, expires, sign(SECRETS[0], company, customer, expires))
    with pytest.raises(PortalLinkExpired):
        signer.verify(link.query())


@given(companies, customers, st.integers(NOW + LINK_TTL_SECONDS + 61, 10**12 - 1))
def test_a_signed_link_too_far_in_the_future_is_refused(
    company: str, customer: str, expires: int,
) -> None:
    link = SignedLink(company, customer, expires, sign(SECRETS[0], company, customer, expires))
    with pytest.raises(PortalLinkInvalid):
        signer.verify(link.query())
