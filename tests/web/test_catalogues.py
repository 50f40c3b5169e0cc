"""The portal page's language catalogues (one JSON file per language, served from the
gateway's origin): every language has every string, with the same placeholders, and
every string the page names exists."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from gateway.company.portal_settings import CANCELLATION_REASONS, LOCALES
from gateway.models.subscription import SUBSCRIPTION_STATUSES
from gateway.web.page import ASSETS_DIR
from tests.support import Gateway

CATALOGUES = ASSETS_DIR / "i18n"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def load(locale: str) -> dict[str, Any]:
    catalogue: dict[str, Any] = json.loads((CATALOGUES / f"{locale}.json").read_text("utf-8"))
    return catalogue


def texts(value: Any) -> list[str]:
    return list(value.values()) if isinstance(value, dict) else [value]


def test_one_catalogue_per_locale_of_the_settings() -> None:
    assert sorted(path.stem for path in CATALOGUES.glob("*.json")) == sorted(LOCALES)


@pytest.mark.parametrize("locale", [locale for locale in LOCALES if locale != "en"])
def test_every_catalogue_has_the_keys_english_has_and_no_others(locale: str) -> None:
    english, other = load("en"), load(locale)
    assert sorted(set(english) - set(other)) == [], f"{locale} misses these"
    assert sorted(set(other) - set(english)) == [], f"{locale} has these English lacks"


@pytest.mark.parametrize("locale", LOCALES)
def test_placeholders_and_plurals_match_english(locale: str) -> None:
    english, other = load("en"), load(locale)
    for key, value in other.items():
        if isinstance(english[key], dict):
            assert isinstance(value, dict), key
            assert "other" in value, key  # the category Intl.PluralRules always has
        wanted = {name for text in texts(english[key]) for name in PLACEHOLDER.findall(text)}
        for text in texts(value):
            assert isinstance(text, str), key
            assert text.strip(), key
            assert set(PLACEHOLDER.findall(text)) <= wanted, (key, text)


def test_every_key_the_page_names_exists() -> None:
    script = (ASSETS_DIR / "portal.js").read_text("utf-8")
    named = set(re.findall(r'\bt\("([a-zA-Z_.]+)"', script))
    html = (ASSETS_DIR.parent / "index.html").read_text("utf-8")
    named |= set(re.findall(r'data-i18n(?:-label)?="([a-zA-Z_.]+)"', html))
    # Keys built from a code: every code the API can send has its string.
    named |= {f"reason.{code}" for code in CANCELLATION_REASONS}
    named |= {f"status.{status}" for status in SUBSCRIPTION_STATUSES}
    named |= {f"price.{interval}" for interval in ("day", "week", "month", "year")}
    for action in ("pause", "reactivate", "keep", "cancel"):
        named |= {f"sub.{action}.{part}" for part in ("label", "busy", "title", "body",
                                                       "confirm", "done")}
    for kind in ("expired", "invalid"):
        named |= {f"{kind}.{part}" for part in ("title", "why", "next", "next.newLink")}
    assert len(named) > 100
    assert sorted(named - set(load("en"))) == []


@pytest.mark.parametrize("locale", LOCALES)
async def test_served_from_the_gateway_origin(gw: Gateway, locale: str) -> None:
    response = await gw.client.get(f"/billing/assets/i18n/{locale}.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == load(locale)
