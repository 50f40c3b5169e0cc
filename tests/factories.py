"""Create records through the services, as merchants would."""

from __future__ import annotations

from typing import Any

from gateway.api_key.service import ApiKeyService
from gateway.company.service import CompanyService
from gateway.customer.service import CustomerService
from gateway.dashboard.passwords import Passwords
from gateway.dashboard.service import TeamService
from gateway.models import Company, Customer, Payment, PaymentLink, Subscription, User
from gateway.payment.service import PaymentService
from gateway.payment_link.service import PaymentLinkService
from gateway.subscription.service import SubscriptionService
from tests.support import Gateway


async def create_company(gw: Gateway, name: str = "Acme", company_id: str | None = None,
                         portal_domain: str | None = None, verified: bool = True) -> Company:
    async with gw.state.session_factory() as session:
        service = CompanyService(session, gw.clock)
        company = await service.create(name, company_id)
        if portal_domain:
            company = await service.set_portal_domain(company.id, portal_domain, verified)
        await session.commit()
        return company


async def create_api_key(gw: Gateway, company: Company | str) -> dict[str, str]:
    """The headers a merchant backend sends."""
    company_id = company if isinstance(company, str) else company.id
    service: ApiKeyService = gw.state.api_keys
    async with gw.state.session_factory() as session:
        created = await service.create(session, company_id)
        await session.commit()
    return {"x-makecrypto-key-id": created.key.id, "x-makecrypto-key-secret": created.secret}


async def create_customer(gw: Gateway, company: Company | str, **overrides: Any) -> Customer:
    company_id = company if isinstance(company, str) else company.id
    values: dict[str, Any] = {"email": "buyer@example.com", "name": "Ada Lovelace",
                              "client_id": "client_1042", "metadata": {"source": "api"}}
    values.update(overrides)
    async with gw.state.session_factory() as session:
        customer = await CustomerService(session, gw.clock).create(company_id, **values)
        await session.commit()
        return customer


async def create_payment(gw: Gateway, company: Company | str, **overrides: Any) -> Payment:
    company_id = company if isinstance(company, str) else company.id
    values: dict[str, Any] = {"amount": "49.00", "currency": "USD", "status": "paid",
                              "email": "buyer@example.com", "description": "Pro plan"}
    values.update(overrides)
    async with gw.state.session_factory() as session:
        payment = await PaymentService(session, gw.clock).record(company_id, **values)
        await session.commit()
        return payment


async def create_payment_link(gw: Gateway, company: Company | str, **overrides: Any) -> PaymentLink:
    company_id = company if isinstance(company, str) else company.id
    values: dict[str, Any] = {"amount": "99.00", "currency": "USD", "email": "buyer@example.com",
                              "description": "Invoice"}
    values.update(overrides)
    async with gw.state.session_factory() as session:
        link = await PaymentLinkService(session, gw.clock, gw.settings.payment_base_url).create(
            company_id, **values)
        await session.commit()
        return link


async def create_subscription(gw: Gateway, company: Company | str, **overrides: Any) -> Subscription:
    company_id = company if isinstance(company, str) else company.id
    values: dict[str, Any] = {"plan_name": "Pro", "amount": "49.00", "currency": "USD",
                              "interval": "month", "email": "buyer@example.com"}
    values.update(overrides)
    async with gw.state.session_factory() as session:
        subscription = await SubscriptionService(session, gw.clock).create(company_id, **values)
        await session.commit()
        return subscription


async def create_user(gw: Gateway, email: str = "owner@example.com",
                      password: str = "correct horse battery staple", name: str | None = "Owner",  # noqa: S107 (a test password)
                      *, grants: dict[str, list[str]] | None = None) -> User:
    """A dashboard user; `grants` maps company ids to the permissions to grant there."""
    async with gw.state.session_factory() as session:
        service = TeamService(session, gw.clock)
        user = await service.create_user(Passwords.from_settings(gw.settings), email, password, name)
        for company_id, permissions in (grants or {}).items():
            for permission in permissions:
                await service.grant(email, company_id, permission)
        await session.commit()
        return user


async def change_permission(gw: Gateway, email: str, company: Company | str, permission: str,
                            *, add: bool) -> None:
    company_id = company if isinstance(company, str) else company.id
    async with gw.state.session_factory() as session:
        service = TeamService(session, gw.clock)
        await (service.grant if add else service.revoke)(email, company_id, permission)
        await session.commit()
