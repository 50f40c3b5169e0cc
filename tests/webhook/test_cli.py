"""`gateway webhooks ...` as an operator runs it, with --json."""

from __future__ import annotations

import sqlite3

from tests.test_cli import as_json, env, gateway

__all__ = ["env"]  # the CLI tests' SQLite database fixture


def test_create_list_update_rotate_test_and_delete(env: dict[str, str]) -> None:
    company = as_json(gateway(["create-company", "--name", "Hooks", "--json"], env))["id"]

    created = as_json(gateway(["webhooks", "create", "--company", company, "--url",
                               "https://hooks.example.com/a", "--event-type",
                               "subscription.paused", "--json"], env))
    endpoint_id = created["endpoint"]["id"]
    assert created["secret"].startswith("whsec_")
    assert created["endpoint"]["eventTypes"] == ["subscription.paused"]

    listed = as_json(gateway(["webhooks", "list", "--company", company, "--json"], env))
    assert [e["id"] for e in listed["endpoints"]] == [endpoint_id]
    assert "secret" not in str(listed)

    updated = as_json(gateway(["webhooks", "update", endpoint_id, "--company", company,
                               "--all-events", "--disable", "--json"], env))
    assert updated["endpoint"]["eventTypes"] == []
    assert updated["endpoint"]["enabled"] is False

    rotated = as_json(gateway(["webhooks", "rotate-secret", endpoint_id, "--company", company,
                               "--json"], env))
    assert rotated["secret"] not in (created["secret"], None)

    refused = gateway(["webhooks", "test", endpoint_id, "--company", company, "--json"], env,
                      check=False)
    assert refused.returncode == 1
    assert as_json(refused)["error"]["code"] == "BAD_REQUEST"
    gateway(["webhooks", "update", endpoint_id, "--company", company, "--enable"], env)
    tested = as_json(gateway(["webhooks", "test", endpoint_id, "--company", company, "--json"],
                             env))
    assert tested["eventId"].startswith("evt_")

    gateway(["webhooks", "delete", endpoint_id, "--company", company, "--json"], env)
    assert as_json(gateway(["webhooks", "list", "--company", company, "--json"], env)) == {
        "endpoints": []}


def test_another_company_cannot_touch_the_endpoint(env: dict[str, str]) -> None:
    owner = as_json(gateway(["create-company", "--name", "Owner", "--json"], env))["id"]
    other = as_json(gateway(["create-company", "--name", "Other", "--json"], env))["id"]
    created = as_json(gateway(["webhooks", "create", "--company", owner, "--url",
                               "https://hooks.example.com/a", "--json"], env))

    refused = gateway(["webhooks", "delete", created["endpoint"]["id"], "--company", other,
                       "--json"], env, check=False)

    assert as_json(refused)["error"]["code"] == "NOT_FOUND"


def test_a_bad_url_is_refused_with_a_message(env: dict[str, str]) -> None:
    company = as_json(gateway(["create-company", "--name", "Bad", "--json"], env))["id"]
    refused = gateway(["webhooks", "create", "--company", company, "--url", "ftp://x", "--json"],
                      env, check=False)
    assert refused.returncode == 1
    assert "https://" in as_json(refused)["error"]["message"]


def test_an_operators_portal_link_is_an_event_with_source_system(env: dict[str, str]) -> None:
    seeded = as_json(gateway(["seed-demo", "--json"], env))
    gateway(["create-portal-link", "--company", seeded["companyId"], "--customer",
             seeded["customerUid"], "--json"], env)

    path = env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT type, source, body FROM events WHERE company_id = ?",
                          (seeded["companyId"],)).fetchall()
    assert [(kind, source) for kind, source, _ in rows] == [("portal_link.created", "system")]
    assert "signature" not in rows[0][2]
