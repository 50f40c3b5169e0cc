"""The subscription state rules against the contract's table (section 5.2, extended
by section 11 with cancellation at the period end), checked exhaustively and over
random sequences of portal actions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import func, select

from gateway.company.portal_settings import CancellationMode
from gateway.models import AuditEvent, Subscription
from gateway.models.subscription import SUBSCRIPTION_STATUSES
from gateway.subscription.service import Action, target
from tests.drawn import examples
from tests.factories import create_subscription
from tests.portal.conftest import make_tenant
from tests.support import CONTRACT_STATE_TABLE, CONTRACT_STATE_TABLES, Gateway, error_codes

ACTIONS = ("pause", "reactivate", "cancel")


def subscription(status: str, cancel_at_period_end: bool = False) -> Subscription:
    now = datetime.now(UTC)
    return Subscription(id=uuid.uuid4(), company_id="acct_1", plan_name="Pro",
                        amount=Decimal("49.00"), currency="USD", interval="month",
                        status=status, cancel_at_period_end=cancel_at_period_end,
                        created_at=now, updated_at=now)


def allowed(row: Subscription, action: str) -> bool:
    return {"pause": row.can_pause, "reactivate": row.can_reactivate,
            "cancel": row.can_cancel}[action]()


def test_the_table_covers_every_status() -> None:
    assert set(CONTRACT_STATE_TABLE) == set(SUBSCRIPTION_STATUSES)


@pytest.mark.parametrize("status", SUBSCRIPTION_STATUSES)
@pytest.mark.parametrize("action", ACTIONS)
def test_each_rule_matches_the_contract(status: str, action: str) -> None:
    assert allowed(subscription(status), action) is (CONTRACT_STATE_TABLE[status][action] is not None)


def test_the_extended_tables_cover_every_status() -> None:
    for table in CONTRACT_STATE_TABLES.values():
        assert {status for status, _ in table} == set(SUBSCRIPTION_STATUSES)
    assert set(CONTRACT_STATE_TABLES) == {mode.value for mode in CancellationMode}


CASES = [(mode, state, action) for mode, table in CONTRACT_STATE_TABLES.items()
         for state in table for action in ACTIONS]


@pytest.mark.parametrize(("mode", "state", "action"), CASES)
def test_each_rule_of_each_mode_matches_the_contract(
    mode: str, state: tuple[str, bool], action: str
) -> None:
    row = subscription(*state)
    values = target(row, Action(action), CancellationMode(mode))
    expected = CONTRACT_STATE_TABLES[mode][state][action]
    if expected is None:
        assert values is None
        return
    assert values is not None
    for name, value in values.items():
        setattr(row, name, value)
    assert (row.status, row.cancel_at_period_end) == expected


class SubscriptionLifecycle(RuleBasedStateMachine):
    """Random portal actions from any starting status: the model allows exactly the
    table's transitions, a refused action changes nothing, and cancelled is final."""

    def __init__(self) -> None:
        super().__init__()
        self.row: Subscription | None = None
        self.cancelled = False

    @precondition(lambda self: self.row is None)
    @rule(status=st.sampled_from(SUBSCRIPTION_STATUSES))
    def start(self, status: str) -> None:
        self.row = subscription(status)
        self.cancelled = status == "cancelled"

    @precondition(lambda self: self.row is not None)
    @rule(action=st.sampled_from(ACTIONS))
    def act(self, action: str) -> None:
        assert self.row is not None
        before = self.row.status
        expected = CONTRACT_STATE_TABLE[before][action]
        assert allowed(self.row, action) is (expected is not None)
        if expected is not None:
            self.row.status = expected
        assert self.row.status == (expected or before)
        self.cancelled |= self.row.status == "cancelled"

    @invariant()
    def cancelled_is_final(self) -> None:
        if self.row is not None and self.cancelled:
            assert self.row.status == "cancelled"
            assert not any(allowed(self.row, action) for action in ACTIONS)


TestSubscriptionLifecycle = SubscriptionLifecycle.TestCase


SEQUENCES = 25
ACT = """mutation($id: ID!) {{ {action}Subscription(subscriptionId: $id) {{ id status }} }}"""


async def test_random_portal_action_sequences_follow_the_table(
    start_gateway: Callable[..., Any],
) -> None:
    """The same rules end to end: random sequences of portal actions over HTTP, through
    the portal service and its compare-and-set, on both backends."""
    gw: Gateway = await start_gateway(rate_limit_portal_writes_per_minute=100_000)
    tenant = await make_tenant(gw)
    cases = examples(st.tuples(st.sampled_from(SUBSCRIPTION_STATUSES),
                               st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=6)),
                     SEQUENCES)
    transitions = 0

    for start, actions in cases:
        row = await create_subscription(gw, tenant.company, status=start)
        status = start
        for action in actions:
            body = await tenant.portal(ACT.format(action=action), {"id": str(row.id)})
            expected = CONTRACT_STATE_TABLE[status][action]
            if expected is None:
                assert error_codes(body) == ["SUBSCRIPTION_STATE_CONFLICT"], (start, actions, body)
                assert body["errors"][0]["extensions"]["currentStatus"] == status
            else:
                assert body["data"][f"{action}Subscription"]["status"] == expected, body
                status = expected
                transitions += 1
        async with gw.state.session_factory() as session:
            stored = await session.get(Subscription, row.id)
        assert stored is not None
        assert stored.status == status

    async with gw.state.session_factory() as session:
        audited = (await session.execute(select(func.count()).select_from(AuditEvent))).scalar_one()
    assert audited == transitions  # one audit row per change, none for a conflict
    assert transitions > 0


async def test_random_sequences_at_the_period_end_follow_the_extended_table(
    start_gateway: Callable[..., Any],
) -> None:
    """As above with cancellationMode AT_PERIOD_END, over HTTP on both backends: the
    states now include 'set to cancel at the period end'."""
    gw: Gateway = await start_gateway(rate_limit_portal_writes_per_minute=100_000)
    tenant = await make_tenant(gw)
    await gw.gql_data("""mutation { updatePortalSettings(input: {cancellationMode: AT_PERIOD_END})
                         { cancellationMode } }""", headers=tenant.api_key)
    table = CONTRACT_STATE_TABLES["AT_PERIOD_END"]
    cases = examples(st.tuples(st.sampled_from(SUBSCRIPTION_STATUSES),
                               st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=6)),
                     SEQUENCES)
    flagged = 0
    for start, actions in cases:
        row = await create_subscription(gw, tenant.company, status=start)
        state = (start, False)
        for action in actions:
            body = await tenant.portal(
                ACT.format(action=action).replace("status }", "status cancelAtPeriodEnd }"),
                {"id": str(row.id)})
            expected = table[state][action]
            if expected is None:
                assert error_codes(body) == ["SUBSCRIPTION_STATE_CONFLICT"], (start, actions, body)
                assert body["errors"][0]["extensions"]["currentStatus"] == state[0]
            else:
                result = body["data"][f"{action}Subscription"]
                assert (result["status"], result["cancelAtPeriodEnd"]) == expected, body
                state = expected
                flagged += state[1]
        async with gw.state.session_factory() as session:
            stored = await session.get(Subscription, row.id)
        assert stored is not None
        assert (stored.status, stored.cancel_at_period_end) == state
    assert flagged > 0
