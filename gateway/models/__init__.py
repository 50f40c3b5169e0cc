from gateway.models.api_key import ApiKey
from gateway.models.audit_event import AuditEvent
from gateway.models.company import Company
from gateway.models.customer import Customer
from gateway.models.event import Event
from gateway.models.payment import Payment
from gateway.models.payment_link import PaymentLink
from gateway.models.portal_revocation import PortalRevocation
from gateway.models.settings_change import SettingsChange
from gateway.models.subscription import Subscription
from gateway.models.user import Membership, User
from gateway.models.webhook import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Company",
    "Customer",
    "Event",
    "Membership",
    "Payment",
    "PaymentLink",
    "PortalRevocation",
    "SettingsChange",
    "Subscription",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
