"""Demo data: one merchant with a customer whose portal has something on every panel."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.api_key.service import ApiKeyService
from gateway.audit.service import OPERATOR
from gateway.company.service import CompanyService
from gateway.config import Settings
from gateway.customer.service import CustomerService
from gateway.db import create_session_factory
from gateway.kit.time import SystemClock
from gateway.models import Company
from gateway.payment.service import PaymentService
from gateway.payment_link.service import PaymentLinkService
from gateway.portal_link.service import portal_origin
from gateway.signing.link import PortalLinkSigner
from gateway.subscription.service import SubscriptionService

DEMO_COMPANY_ID = "acct_demo"
DEMO_ACCENT_COLOR = "#0f766e"  # a deep teal: 5.1:1 against the page background


async def seed_demo(settings: Settings, session: AsyncSession, *, if_empty: bool = False) -> dict[str, Any] | None:
    if if_empty and (await session.execute(select(func.count()).select_from(Company))).scalar_one():
        return None
    clock = SystemClock()
    now = clock.now()
    companies = CompanyService(session, clock)
    company = await companies.create("Demo Merchant", DEMO_COMPANY_ID if if_empty else None)
    await companies.update_branding(company.id, {"accent_color": DEMO_ACCENT_COLOR,
                                                 "support_email": "support@example.com"},
                                    OPERATOR)
    customers = CustomerService(session, clock)
    ada = await customers.create(company.id, email="buyer@example.com", name="Ada Lovelace",
                                 client_id="client_1042", metadata={"source": "api"})
    await customers.create(company.id, email="grace@example.com", name="Grace Hopper",
                           client_id="client_2001", metadata={"source": "dashboard"})

    payments = PaymentService(session, clock)
    samples = [("49.00", "USD", "paid", "Pro plan, monthly"), ("0.00120000", "BTC", "paid", "Top-up"),
               ("25.50", "EUR", "refunded", "Add-on seats"), ("49.00", "USD", "failed", "Pro plan, monthly"),
               ("150.000000", "USDC", "pending", "Annual support")]
    for i in range(25):
        amount, currency, status, description = samples[i % len(samples)]
        payment = await payments.record(
            company.id, amount=amount, currency=currency, status=status,
            email=ada.email if i % 2 == 0 else None,
            client_id=ada.client_id if i % 3 != 0 or i % 2 == 1 else None,
            description=description,
        )
        payment.created_at = now - timedelta(days=i * 3, hours=i)

    links = PaymentLinkService(session, clock, settings.payment_base_url)
    await links.create(company.id, amount="99.00", currency="USD", email=ada.email,
                       description="Invoice #1042", expires_at=now + timedelta(days=14))
    unpaid = await links.create(company.id, amount="0.05", currency="ETH", client_id=ada.client_id,
                                description="Hardware wallet")
    unpaid.status = "unpaid"
    paid = await links.create(company.id, amount="10.00", currency="USD", email=ada.email,
                              description="Already paid")
    paid.status = "paid"

    subscriptions = SubscriptionService(session, clock)
    await subscriptions.create(company.id, plan_name="Pro", amount="49.00", currency="USD",
                               interval="month", email=ada.email)
    await subscriptions.create(company.id, plan_name="Node hosting", amount="0.25", currency="SOL",
                               interval="week", metadata={"clientId": ada.client_id}, status="paused")
    await subscriptions.create(company.id, plan_name="Analytics", amount="120.00", currency="USDC",
                               interval="year", email=ada.email, status="trialing")
    await subscriptions.create(company.id, plan_name="Legacy", amount="5.00", currency="EUR",
                               interval="month", email=ada.email, status="cancelled")

    api_keys = ApiKeyService(create_session_factory(session.bind), clock,  # type: ignore[arg-type]
                             settings.api_key_pepper)
    created = await api_keys.create(session, company.id, "demo")
    await session.flush()

    link = PortalLinkSigner(settings.portal_signing_secrets, clock).issue(company.id, ada.uid)
    return {
        "companyId": company.id,
        "keyId": created.key.id,
        "secret": created.secret,
        "customerId": str(ada.id),
        "customerUid": ada.uid,
        "portalUrl": f"{portal_origin(company, settings.portal_base_url)}/billing?{link.query()}",
    }
