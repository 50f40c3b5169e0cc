from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.customer.types import Customer, customer_fields
from gateway.portal_link.service import IssuedPortalLink


@strawberry.type
class CustomerUrls:
    customer_portal: str = strawberry.field(
        description="Signed portal URL, valid 24 hours. Open it at once; never store it."
    )


@strawberry.type(description="A customer with the signed portal URL.")
class PortalLinkCustomer(Customer):
    urls: CustomerUrls


@strawberry.type(description="A freshly signed customer portal link.")
class PortalLink:
    company_id: str
    customer: PortalLinkCustomer
    expires_at: datetime

    @classmethod
    def from_issued(cls, issued: IssuedPortalLink) -> PortalLink:
        return cls(
            company_id=issued.company_id,
            customer=PortalLinkCustomer(
                **customer_fields(issued.customer), urls=CustomerUrls(customer_portal=issued.url)
            ),
            expires_at=issued.expires_at,
        )


@strawberry.type(description="The result of revoking a customer's portal links.")
class PortalLinkRevocation:
    customer_id: strawberry.ID
    revoked_before: datetime = strawberry.field(
        description="Links issued at or before this instant no longer work."
    )
