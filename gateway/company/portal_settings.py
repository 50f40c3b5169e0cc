"""A merchant's portal settings (contract section 11): what the portal page offers
the customer. Kept as JSON on the company, holding only what differs from the
defaults, so a default changed here reaches every merchant who never set it.

Cancel is deliberately not a setting: customers can always cancel from the portal
(consumer law in several markets asks that cancelling be as easy as subscribing)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from gateway.company.branding import https_url
from gateway.errors import BadRequest

CANCELLATION_REASONS = ("too_expensive", "missing_features", "switched_service", "unused",
                        "customer_service", "too_complex", "low_quality", "other")
# The portal page's catalogues (web/assets/i18n/*.json).
LOCALES = ("en", "de", "fr", "es")
MAX_URL = 500


class CancellationMode(StrEnum):
    IMMEDIATELY = "IMMEDIATELY"
    AT_PERIOD_END = "AT_PERIOD_END"


@dataclass(frozen=True, slots=True)
class PortalSettings:
    pause_enabled: bool = True
    cancellation_mode: CancellationMode = CancellationMode.IMMEDIATELY
    cancellation_reasons: tuple[str, ...] = CANCELLATION_REASONS
    return_url: str | None = None
    new_link_url: str | None = None
    default_locale: str = "en"

    @classmethod
    def from_json(cls, value: Any) -> PortalSettings:
        """What is stored; a key it does not know or a value of the wrong kind is ignored
        (the default stands) rather than trusted. Nothing stored (most merchants) is
        DEFAULT_SETTINGS itself."""
        if not isinstance(value, dict):
            return DEFAULT_SETTINGS
        found: dict[str, Any] = {}
        pause = value.get("pauseEnabled")
        if isinstance(pause, bool):
            found["pause_enabled"] = pause
        mode = value.get("cancellationMode")
        if isinstance(mode, str) and mode in CancellationMode.__members__:
            found["cancellation_mode"] = CancellationMode(mode)
        reasons = value.get("cancellationReasons")
        if isinstance(reasons, list):
            found["cancellation_reasons"] = tuple(r for r in reasons if r in CANCELLATION_REASONS)
        for name in ("return_url", "new_link_url"):
            url = value.get(JSON_KEYS[name])
            if isinstance(url, str):
                found[name] = url
        locale = value.get("defaultLocale")
        if locale in LOCALES:
            found["default_locale"] = locale
        return cls(**found)

    def public(self) -> dict[str, Any]:
        """Every field as the API names and shows it."""
        return {key: _plain(getattr(self, name)) for name, key in JSON_KEYS.items()}

    def to_json(self) -> dict[str, Any] | None:
        default = DEFAULT_SETTINGS.public()
        stored = {key: value for key, value in self.public().items() if value != default[key]}
        return stored or None

    def updated(self, cleaned: Mapping[str, Any]) -> PortalSettings:
        """A copy with changes that `clean_changes` returned; None restores the default."""
        return replace(self, **{name: getattr(DEFAULT_SETTINGS, name) if value is None else value
                                for name, value in cleaned.items()})


DEFAULT_SETTINGS = PortalSettings()


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return str(value) if isinstance(value, CancellationMode) else value


JSON_KEYS = {"pause_enabled": "pauseEnabled", "cancellation_mode": "cancellationMode",
             "cancellation_reasons": "cancellationReasons", "return_url": "returnUrl",
             "new_link_url": "newLinkUrl", "default_locale": "defaultLocale"}


def clean_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """`changes` (field name to raw value; None restores the default) validated and
    normalized, or a BadRequest naming the first invalid field."""
    unknown = set(changes) - set(JSON_KEYS)
    if unknown:
        raise ValueError(f"unknown portal settings: {sorted(unknown)}")
    return {name: None if raw is None else VALIDATORS[name](raw) for name, raw in changes.items()}


def pause_enabled(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _bad("pauseEnabled", "must be true or false.")
    return value


def cancellation_mode(value: Any) -> CancellationMode:
    if str(value) not in CancellationMode.__members__:
        raise _bad("cancellationMode", f"must be one of: {', '.join(CancellationMode)}.")
    return CancellationMode(str(value))


def cancellation_reasons(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(r, str) for r in value):
        raise _bad("cancellationReasons", "must be a list of reason codes.")
    unknown = [r for r in value if r not in CANCELLATION_REASONS]
    if unknown:
        raise _bad("cancellationReasons",
                   f"holds an unknown reason {unknown[0][:40]!r}; the codes are: "
                   f"{', '.join(CANCELLATION_REASONS)}.")
    if len(set(value)) != len(value):
        raise _bad("cancellationReasons", "must not name a reason twice.")
    return tuple(value)


def return_url(value: Any) -> str:
    return https_url(str(value), "returnUrl", MAX_URL, example="www.example.com")


def new_link_url(value: Any) -> str:
    return https_url(str(value), "newLinkUrl", MAX_URL, example="www.example.com/billing")


def default_locale(value: Any) -> str:
    if value not in LOCALES:
        raise _bad("defaultLocale", f"must be one of the page's languages: {', '.join(LOCALES)}.")
    return str(value)


def _bad(field: str, problem: str) -> BadRequest:
    return BadRequest(f"{field} {problem}", field=field)


VALIDATORS: dict[str, Any] = {
    "pause_enabled": pause_enabled, "cancellation_mode": cancellation_mode,
    "cancellation_reasons": cancellation_reasons, "return_url": return_url,
    "new_link_url": new_link_url, "default_locale": default_locale,
}
