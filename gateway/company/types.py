from __future__ import annotations

from typing import Any

import strawberry

from gateway.company.branding import MAX_SUPPORT_URL, MIN_CONTRAST, PAGE_BACKGROUND, Branding
from gateway.company.portal_settings import (
    CANCELLATION_REASONS,
    DEFAULT_SETTINGS,
    LOCALES,
    MAX_URL,
    CancellationMode,
    PortalSettings,
)
from gateway.company.portal_settings import JSON_KEYS as SETTINGS_KEYS


@strawberry.type(description="How the merchant's billing portal presents them. There is no "
                 "logo: the portal page loads nothing from other hosts.")
class PortalBranding:
    accent_color: str | None = strawberry.field(
        description="#RRGGBB for buttons and links, with a contrast of at least "
        f"{MIN_CONTRAST}:1 against white and the page background {PAGE_BACKGROUND}.")
    support_email: str | None = strawberry.field(
        description="Where customers write with billing questions.")
    support_url: str | None = strawberry.field(
        description=f"An https:// help page (at most {MAX_SUPPORT_URL} characters).")
    display_name: str | None = strawberry.field(
        description="Shown instead of the company name: 1-100 characters.")

    @classmethod
    def from_branding(cls, branding: Branding) -> PortalBranding:
        return cls(accent_color=branding.accent_color, support_email=branding.support_email,
                   support_url=branding.support_url, display_name=branding.display_name)


@strawberry.input(description="Portal branding to change; omitted fields stay, null clears.")
class PortalBrandingInput:
    accent_color: str | None = strawberry.UNSET
    support_email: str | None = strawberry.UNSET
    support_url: str | None = strawberry.UNSET
    display_name: str | None = strawberry.UNSET

    def changes(self) -> dict[str, str | None]:
        values = {"accent_color": self.accent_color, "support_email": self.support_email,
                  "support_url": self.support_url, "display_name": self.display_name}
        return {name: value for name, value in values.items() if value is not strawberry.UNSET}


CancellationModeEnum = strawberry.enum(
    CancellationMode, name="CancellationMode",
    description="When cancelSubscription ends an active or trialing subscription.")


@strawberry.type(name="PortalSettings",
                 description="What the billing portal offers customers. Cancel is always "
                 "offered: no setting removes it.")
class PortalSettingsType:
    pause_enabled: bool = strawberry.field(
        description="Offer pause (default true). Reactivating a paused subscription stays "
        "possible either way.")
    cancellation_mode: CancellationModeEnum = strawberry.field(  # type: ignore[valid-type]
        description="IMMEDIATELY (default) or AT_PERIOD_END: an active or trialing "
        "subscription keeps running until currentPeriodEnd, then is cancelled.")
    cancellation_reasons: list[str] = strawberry.field(
        description="Reason codes offered at cancel (default all of "
        f"{', '.join(CANCELLATION_REASONS)}); empty: no reason is asked.")
    return_url: str | None = strawberry.field(
        description=f"An https:// page on the merchant's site the portal links back to "
        f"(at most {MAX_URL} characters).")
    new_link_url: str | None = strawberry.field(
        description="An https:// page where a customer with an expired or revoked link "
        "gets a new one.")
    default_locale: str = strawberry.field(
        description=f"The page's language when the browser asks for none it has: "
        f"{', '.join(LOCALES)} (default en).")

    @classmethod
    def from_settings(cls, settings: PortalSettings) -> PortalSettingsType:
        """The default settings' is made once (only read after): every portal query of
        a merchant who kept them shows it."""
        if settings is DEFAULT_SETTINGS:
            return _DEFAULT_SETTINGS_TYPE
        return cls._of(settings)

    @classmethod
    def _of(cls, settings: PortalSettings) -> PortalSettingsType:
        return cls(pause_enabled=settings.pause_enabled,
                   cancellation_mode=settings.cancellation_mode,
                   cancellation_reasons=list(settings.cancellation_reasons),
                   return_url=settings.return_url, new_link_url=settings.new_link_url,
                   default_locale=settings.default_locale)


_DEFAULT_SETTINGS_TYPE = PortalSettingsType._of(DEFAULT_SETTINGS)


@strawberry.input(description="Portal settings to change; omitted fields stay, null restores "
                  "the default.")
class PortalSettingsInput:
    pause_enabled: bool | None = strawberry.UNSET
    cancellation_mode: CancellationModeEnum | None = strawberry.UNSET  # type: ignore[valid-type]
    cancellation_reasons: list[str] | None = strawberry.UNSET
    return_url: str | None = strawberry.UNSET
    new_link_url: str | None = strawberry.UNSET
    default_locale: str | None = strawberry.UNSET

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in SETTINGS_KEYS
                if getattr(self, name) is not strawberry.UNSET}
