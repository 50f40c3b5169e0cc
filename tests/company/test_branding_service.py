"""Portal branding rules: each field's validation, the WCAG contrast rule for the
accent colour, null clearing, and that invalid input changes nothing."""

from __future__ import annotations

import asyncio
import unicodedata
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.audit.service import OPERATOR
from gateway.company.branding import JSON_KEYS, Branding, clean_changes, contrast_ratio
from gateway.company.service import CompanyService
from gateway.errors import BadRequest, NotFound
from gateway.models import Company
from tests.factories import create_company
from tests.support import Gateway


async def update(gw: Gateway, company_id: str, **changes: str | None) -> Branding:
    async with gw.state.session_factory() as session:
        branding = await CompanyService(session, gw.clock).update_branding(company_id, changes,
                                                                            OPERATOR)
        await session.commit()
        return branding


async def stored(gw: Gateway, company_id: str) -> Any:
    async with gw.state.session_factory() as session:
        company = await session.get(Company, company_id)
        assert company is not None
        return company.branding


class TestContrastRatio:
    @pytest.mark.parametrize(("a", "b", "expected"), [
        ("#000000", "#ffffff", 21.0),
        ("#ffffff", "#ffffff", 1.0),
        ("#767676", "#ffffff", 4.54),  # the classic lightest AA grey on white
        ("#4f46e5", "#ffffff", 6.29),  # the page's default accent
    ])
    def test_matches_wcag(self, a: str, b: str, expected: float) -> None:
        assert contrast_ratio(a, b) == pytest.approx(expected, abs=0.01)
        assert contrast_ratio(b, a) == pytest.approx(expected, abs=0.01)


class TestAccentColor:
    @pytest.mark.parametrize("color", ["#0f766e", "#4F46E5", "#000000", "#2563eb", " #be185d "])
    async def test_dark_enough_colours_are_kept_lowercase(self, gw: Gateway, color: str) -> None:
        company = await create_company(gw)
        branding = await update(gw, company.id, accent_color=color)
        assert branding.accent_color == color.strip().lower()
        assert await stored(gw, company.id) == {"accentColor": color.strip().lower()}

    @pytest.mark.parametrize("color", [
        "#ffffff",
        "#0d9488",  # 3.7:1 with white text
        "#777777",  # 4.48:1 with white text: just under AA
        "#767676",  # 4.54:1 with white text, but 4.24:1 on the page background
    ])
    async def test_colours_failing_aa_are_refused(self, gw: Gateway, color: str) -> None:
        company = await create_company(gw)
        with pytest.raises(BadRequest) as raised:
            await update(gw, company.id, accent_color=color)
        assert "contrast" in raised.value.message
        assert "4.5:1" in raised.value.message
        assert raised.value.extensions["field"] == "accentColor"
        assert raised.value.extensions["contrast"] < 4.5

    @pytest.mark.parametrize("color", ["0f766e", "#0f766", "#0f766e0", "#gggggg", "teal",
                                       "rgb(0,0,0)", "#000000;background:url(x)", ""])
    async def test_anything_but_hex_rrggbb_is_refused(self, gw: Gateway, color: str) -> None:
        company = await create_company(gw)
        with pytest.raises(BadRequest, match="#RRGGBB"):
            await update(gw, company.id, accent_color=color)


class TestSupportEmail:
    async def test_is_normalized(self, gw: Gateway) -> None:
        company = await create_company(gw)
        branding = await update(gw, company.id, support_email="  Help@Example.COM ")
        assert branding.support_email == "help@example.com"

    @pytest.mark.parametrize("email", ["nope", "a@", "@example.com", "a b@example.com", ""])
    async def test_invalid_is_refused(self, gw: Gateway, email: str) -> None:
        company = await create_company(gw)
        with pytest.raises(BadRequest, match="supportEmail"):
            await update(gw, company.id, support_email=email)


class TestSupportUrl:
    @pytest.mark.parametrize("url", ["https://help.example.com",
                                     "https://example.com/support?topic=billing#refunds",
                                     "https://help.example.com:8443/x"])
    async def test_https_urls_are_kept(self, gw: Gateway, url: str) -> None:
        company = await create_company(gw)
        assert (await update(gw, company.id, support_url=url)).support_url == url

    @pytest.mark.parametrize(("url", "problem"), [
        ("http://help.example.com", "https://"),
        ("javascript:alert(1)", "https://"),
        ("data:text/html,hi", "https://"),
        ("//help.example.com", "https://"),
        ("https://", "host"),
        ("https://localhost/help", "host"),
        ("https://user:pw@help.example.com", "user name or password"),
        ("https://help.example.com/a b", "spaces"),
        ("https://help.example.com/\u202e", "control"),
        ("https://help.example.com:99999/", "valid URL"),
        ("https://example.com/" + "a" * 500, "500 characters"),
        ("   ", "null"),
    ])
    async def test_unsafe_or_malformed_urls_are_refused(self, gw: Gateway, url: str,
                                                        problem: str) -> None:
        company = await create_company(gw)
        with pytest.raises(BadRequest, match="supportUrl") as raised:
            await update(gw, company.id, support_url=url)
        assert problem in raised.value.message


class TestDisplayName:
    async def test_is_trimmed(self, gw: Gateway) -> None:
        company = await create_company(gw)
        assert (await update(gw, company.id, display_name="  Acme Cloud  ")).display_name == "Acme Cloud"

    async def test_hundred_characters_are_allowed(self, gw: Gateway) -> None:
        company = await create_company(gw)
        assert (await update(gw, company.id, display_name="é" * 100)).display_name == "é" * 100

    @pytest.mark.parametrize("name", ["", "   ", "x" * 101, "bell\x07", "tab\there",
                                      "evil\u202eoc.yap"])
    async def test_invalid_is_refused(self, gw: Gateway, name: str) -> None:
        company = await create_company(gw)
        with pytest.raises(BadRequest, match="displayName"):
            await update(gw, company.id, display_name=name)


class TestUpdate:
    async def test_omitted_fields_stay_and_none_clears(self, gw: Gateway) -> None:
        company = await create_company(gw)
        await update(gw, company.id, accent_color="#0f766e", support_email="help@example.com")
        after = await update(gw, company.id, support_email=None, display_name="Acme Cloud")
        assert after == Branding(accent_color="#0f766e", display_name="Acme Cloud")
        assert await stored(gw, company.id) == {"accentColor": "#0f766e", "displayName": "Acme Cloud"}

    async def test_clearing_everything_stores_null(self, gw: Gateway) -> None:
        company = await create_company(gw)
        await update(gw, company.id, accent_color="#0f766e")
        assert (await update(gw, company.id, accent_color=None)).is_empty
        assert await stored(gw, company.id) is None

    async def test_one_invalid_field_changes_nothing(self, gw: Gateway) -> None:
        company = await create_company(gw)
        await update(gw, company.id, accent_color="#0f766e", support_email="help@example.com")
        with pytest.raises(BadRequest, match="supportUrl"):
            await update(gw, company.id, accent_color="#1d4ed8", support_email=None,
                         support_url="http://insecure.example.com")
        assert await stored(gw, company.id) == {"accentColor": "#0f766e",
                                                "supportEmail": "help@example.com"}

    async def test_unknown_company_is_not_found(self, gw: Gateway) -> None:
        with pytest.raises(NotFound):
            await update(gw, "acct_missing", accent_color="#0f766e")

    async def test_concurrent_updates_of_different_fields_both_land(self, gw: Gateway) -> None:
        company = await create_company(gw)
        await asyncio.gather(update(gw, company.id, accent_color="#0f766e"),
                             update(gw, company.id, support_email="help@example.com"),
                             update(gw, company.id, support_url="https://help.example.com"),
                             update(gw, company.id, display_name="Acme Cloud"))
        assert await stored(gw, company.id) == {
            "accentColor": "#0f766e", "supportEmail": "help@example.com",
            "supportUrl": "https://help.example.com", "displayName": "Acme Cloud"}


def test_stored_values_that_are_not_strings_are_ignored() -> None:
    branding = Branding.from_json({"accentColor": {"x": 1}, "supportEmail": "a@example.com",
                                   "logoUrl": "https://evil.example.com/x.png"})
    assert branding == Branding(support_email="a@example.com")
    assert Branding.from_json(["nope"]).is_empty
    assert Branding.from_json(None).is_empty


@pytest.mark.parametrize("field", sorted(JSON_KEYS))
@given(raw=st.text(max_size=600))
def test_any_text_is_accepted_or_a_bad_request(field: str, raw: str) -> None:
    try:
        cleaned = clean_changes({field: raw})[field]
    except BadRequest as exc:
        refused_field = exc.extensions["field"]
    else:
        refused_field = None
    if refused_field is not None:
        assert refused_field == JSON_KEYS[field]
        return
    assert cleaned is not None
    assert not any(unicodedata.category(ch) == "Cc" for ch in cleaned)


@given(color=st.from_regex(r"#[0-9a-f]{6}", fullmatch=True))
def test_every_accepted_accent_meets_aa_on_white_and_the_page(color: str) -> None:
    try:
        accepted = clean_changes({"accent_color": color})["accent_color"]
    except BadRequest:
        assert min(contrast_ratio(color, "#ffffff"), contrast_ratio(color, "#f6f7f9")) < 4.5
        return
    assert accepted == color
    assert contrast_ratio(color, "#ffffff") >= 4.5
    assert contrast_ratio(color, "#f6f7f9") >= 4.5
