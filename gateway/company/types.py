from __future__ import annotations

import strawberry

from gateway.company.branding import MAX_SUPPORT_URL, MIN_CONTRAST, PAGE_BACKGROUND, Branding


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
