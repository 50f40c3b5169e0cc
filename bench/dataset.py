"""The benchmark's data set, written with set-based SQL (generate_series) in seconds.

Row ids are deterministic (md5 of a tag and a number, as a UUID) so that the load
scripts can name rows without reading them back. Customer n belongs to company
(n - 1) % companies; its email is c{n}@bench.example and its client id client_{n}.

Payments come in two stages so that scenario 7 can compare the portal query at two
table sizes: stage 1 gives each "hot" customer (the ones the portal scenarios use)
an equal share of `stage1_payments`; stage 2 grows the table to `payments` rows,
giving the hot customers ten times their stage-1 history and spreading the rest
over every customer."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass

import asyncpg

from gateway.signing.link import PortalLinkSigner

COMPANY_PREFIX = "acct_bench"
KEY_PREFIX = "mk_makepay_bench"


@dataclass(frozen=True, slots=True)
class Size:
    companies: int
    customers: int
    payments: int
    subscriptions: int
    stage1_payments: int = 10_000
    hot_customers: int = 100
    mutation_pool: int = 2_000

    @classmethod
    def full(cls) -> Size:
        return cls(1_000, 100_000, 1_000_000, 200_000)

    @classmethod
    def small(cls) -> Size:
        return cls(100, 10_000, 100_000, 20_000)


def det_uuid(tag: str, n: int) -> uuid.UUID:
    return uuid.UUID(hashlib.md5(f"{tag}{n}".encode()).hexdigest())  # noqa: S324 (ids, not security)


def company_id(n: int) -> str:
    return f"{COMPANY_PREFIX}{n}"


def customer_company(size: Size, n: int) -> str:
    return company_id((n - 1) % size.companies)


def customer_uid(n: int) -> str:
    return "cus_" + format(n, "x").rjust(26, "0")


def key_id(company: int) -> str:
    return f"{KEY_PREFIX}{company:024d}"


def key_secret(company: int) -> str:
    return f"bench-secret-{company:08d}-0123456789abcdefghijklmnop"


def _sql_uuid(tag: str, expr: str) -> str:
    return f"md5('{tag}' || ({expr}))::uuid"


async def seed_base(conn: asyncpg.Connection, size: Size, pepper: str) -> None:
    """Companies, API keys, customers, subscriptions, payment links, stage-1 payments."""
    await conn.execute("SET synchronous_commit = off")
    await conn.execute(
        f"""INSERT INTO companies (id, name, portal_domain_verified, created_at)
        SELECT '{COMPANY_PREFIX}' || g, 'Bench company ' || g, false, now()
        FROM generate_series(0, $1 - 1) g""",  # noqa: S608 (constants)
        size.companies,
    )
    keys = [
        (key_id(c), company_id(c), "bench",
         hmac.new(pepper.encode(), key_secret(c).encode(), hashlib.sha256).hexdigest())
        for c in range(size.companies)
    ]
    await conn.executemany(
        "INSERT INTO api_keys (id, company_id, name, secret_hash, created_at) "
        "VALUES ($1, $2, $3, $4, now())",
        keys,
    )
    await conn.execute(
        f"""INSERT INTO customers (id, uid, company_id, email, name, client_id, metadata,
                                   created_at, updated_at)
        SELECT {_sql_uuid('c', 'g')}, 'cus_' || lpad(to_hex(g), 26, '0'),
               '{COMPANY_PREFIX}' || ((g - 1) % $2), 'c' || g || '@bench.example',
               'Customer ' || g, 'client_' || g, '{{"source": "bench"}}'::json,
               now() - g * interval '1 second', now() - g * interval '1 second'
        FROM generate_series(1, $1) g""",  # noqa: S608 (constants)
        size.customers, size.companies,
    )
    # Subscription k belongs to customer ((k - 1) % customers) + 1; each customer's
    # first one is active (the mutation scenario pauses and reactivates those).
    await conn.execute(
        f"""INSERT INTO subscriptions (id, company_id, email, client_id, metadata, plan_name,
                                       amount, currency, interval, status, current_period_end,
                                       created_at, updated_at)
        SELECT {_sql_uuid('s', 'g')}, '{COMPANY_PREFIX}' || (((g - 1) % $2) % $3),
               CASE WHEN g % 2 = 0 THEN 'c' || ((g - 1) % $2 + 1) || '@bench.example' END,
               'client_' || ((g - 1) % $2 + 1),
               json_build_object('clientId', 'client_' || ((g - 1) % $2 + 1)),
               (ARRAY['Pro', 'Team', 'Hosting', 'Analytics'])[g % 4 + 1], 49.00, 'USD',
               (ARRAY['day', 'week', 'month', 'year'])[g % 4 + 1],
               CASE WHEN g <= $2 THEN 'active'
                    ELSE (ARRAY['active', 'trialing', 'paused', 'cancelled', 'past_due'])[g % 5 + 1]
               END,
               now() + interval '20 days', now(), now()
        FROM generate_series(1, $1) g""",  # noqa: S608 (constants)
        size.subscriptions, size.customers, size.companies,
    )
    await conn.execute(
        f"""INSERT INTO payment_links (id, company_id, email, client_id, amount, currency, status,
                                       description, url, expires_at, created_at)
        SELECT {_sql_uuid('l', 'g')}, '{COMPANY_PREFIX}' || ((g - 1) % $2),
               'c' || g || '@bench.example', NULL, 99.00, 'EUR',
               (ARRAY['active', 'unpaid', 'paid'])[g % 3 + 1], 'Invoice ' || g,
               'https://pay.makepay.io/pay/' || {_sql_uuid('l', 'g')},
               now() + interval '14 days', now()
        FROM generate_series(1, $1) g""",  # noqa: S608 (constants)
        size.customers // 2, size.companies,
    )
    await _payments(conn, size, 1, size.stage1_payments, hot_only=True)
    await conn.execute("ANALYZE")


async def seed_stage2(conn: asyncpg.Connection, size: Size) -> None:
    """Grows payments to `size.payments`. The secondary indexes are dropped and built
    again after the load (much faster than maintaining them row by row)."""
    await conn.execute("SET synchronous_commit = off")
    await conn.execute("SET maintenance_work_mem = '256MB'")
    indexes = await conn.fetch(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'payments' "
        "AND indexname <> 'payments_pkey'"
    )
    for row in indexes:
        await conn.execute(f'DROP INDEX "{row["indexname"]}"')
    hot_extra = size.stage1_payments * 9
    start = size.stage1_payments + 1
    await _payments(conn, size, start, hot_extra, hot_only=True)
    rest = size.payments - size.stage1_payments - hot_extra
    if rest > 0:
        await _payments(conn, size, start + hot_extra, rest, hot_only=False)
    for row in indexes:
        await conn.execute(row["indexdef"])
    await conn.execute("ANALYZE payments")


async def _payments(conn: asyncpg.Connection, size: Size, first: int, count: int,
                    *, hot_only: bool) -> None:
    # Payment k matches its customer by email (k % 3 != 0), by client id (k % 3 != 1),
    # or both, so that both index paths of the portal's payment query are exercised.
    owner = f"((g - 1) % {size.hot_customers} + 1)" if hot_only else \
        f"((g * 7919) % {size.customers} + 1)"
    await conn.execute(
        f"""INSERT INTO payments (id, company_id, email, client_id, amount, currency, status,
                                  description, created_at)
        SELECT {_sql_uuid('p', 'g')}, '{COMPANY_PREFIX}' || (({owner} - 1) % $3),
               CASE WHEN g % 3 <> 0 THEN 'c' || {owner} || '@bench.example' END,
               CASE WHEN g % 3 <> 1 THEN 'client_' || {owner} END,
               (g % 10000) / 100.0 + 1, (ARRAY['USD', 'EUR', 'BTC'])[g % 3 + 1],
               (ARRAY['paid', 'paid', 'pending', 'failed', 'refunded'])[g % 5 + 1],
               'Payment ' || g, now() - g * interval '1 minute'
        FROM generate_series($1::bigint, $1::bigint + $2::bigint - 1) g""",  # noqa: S608 (constants)
        first, count, size.companies,
    )


def portal_query(signer: PortalLinkSigner, size: Size, n: int) -> str:
    return signer.issue(customer_company(size, n), customer_uid(n)).query()


def forged_query(size: Size, n: int) -> str:
    """Well-formed and unexpired, with a signature no secret made."""
    expires = int(time.time()) + 3600
    return (f"company={customer_company(size, n)}&customer={customer_uid(n)}"
            f"&expires={expires}&signature={'ab' * 32}")
