"""The `gateway` command as an operator runs it: a real process, a real SQLite file."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from typer.testing import CliRunner

from gateway import cli
from gateway.app import create_app
from gateway.config import Settings
from tests.company.test_portal_settings import CHANGED as SETTINGS_CHANGED
from tests.company.test_portal_settings import DEFAULTS as SETTINGS_DEFAULTS
from tests.servers import ROOT


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def gateway(args: list[str], env: dict[str, str], check: bool = True) -> Ran:
    """Runs the CLI in process (the same entry point `gateway` and `python -m gateway` call)."""
    result = CliRunner().invoke(cli.app, args, env=env, catch_exceptions=False)
    ran = Ran(result.exit_code, result.stdout, result.stderr)
    if check:
        assert ran.returncode == 0, ran.stderr
    return ran


COMMANDS = sorted(typer.main.get_command(cli.app).commands)  # type: ignore[attr-defined]


def test_python_dash_m_gateway_runs_the_cli() -> None:
    result = subprocess.run([sys.executable, "-m", "gateway", "--help"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, check=False, env={**os.environ})
    assert result.returncode == 0
    for command in ("serve", "migrate", "create-company", "create-api-key", "revoke-api-key",
                    "create-portal-link", "seed-demo", "export-schema"):
        assert command in result.stdout


def as_json(result: Ran) -> dict[str, Any]:
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    value: dict[str, Any] = json.loads(lines[0])
    return value


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    path: Path = tmp_path_factory.mktemp("cli") / "cli.db"
    values = {"DATABASE_URL": f"sqlite:///{path}", "ENVIRONMENT": "development", "REDIS_URL": ""}
    gateway(["migrate"], values)
    return values


def test_migrate_says_which_migrations_it_applied(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}", "ENVIRONMENT": "development",
           "REDIS_URL": ""}
    scripts = sorted(path.name.split("_")[0]
                     for path in (ROOT / "gateway" / "migrations" / "versions").glob("[0-9]*.py"))

    first = as_json(gateway(["migrate", "--json"], env))
    again = as_json(gateway(["migrate", "--json"], env))

    assert first == {"ok": True, "applied": scripts, "revision": scripts[-1]}
    assert again == {"ok": True, "applied": [], "revision": scripts[-1]}


def test_migrate_in_words(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}", "ENVIRONMENT": "development",
           "REDIS_URL": ""}
    first = gateway(["migrate"], env).stdout
    again = gateway(["migrate"], env).stdout

    assert first.startswith("Applied ")
    assert "0001" in first
    assert again.startswith("Nothing to apply")


@pytest.mark.parametrize("command", COMMANDS)
def test_a_usage_error_with_json_is_one_json_error(env: dict[str, str], command: str) -> None:
    result = gateway([command, "--no-such-option", "--json"], env, check=False)

    assert result.returncode == 2
    assert as_json(result) == {"ok": False, "error": {"code": "BAD_REQUEST",
                                                      "message": "No such option: --no-such-option"}}
    assert result.stderr == ""


def test_a_missing_option_with_json_names_the_option(env: dict[str, str]) -> None:
    result = gateway(["create-company", "--json"], env, check=False)

    assert result.returncode == 2
    assert as_json(result)["error"] == {"code": "BAD_REQUEST", "message": "Missing option '--name'."}


def test_an_unknown_command_with_json_is_one_json_error(env: dict[str, str]) -> None:
    result = gateway(["create-compny", "--json"], env, check=False)

    assert result.returncode == 2
    assert as_json(result)["error"]["code"] == "BAD_REQUEST"


def test_a_usage_error_without_json_stays_text(env: dict[str, str]) -> None:
    result = gateway(["create-company"], env, check=False)

    assert result.returncode == 2
    assert result.stdout == ""
    assert "Missing option '--name'" in result.stderr


def test_invalid_configuration_with_json_is_one_json_error(env: dict[str, str]) -> None:
    result = gateway(["create-company", "--name", "X", "--json"],
                     {**env, "RATE_LIMIT_LINKS_PER_MINUTE": "lots"}, check=False)

    assert result.returncode == 2
    error = as_json(result)["error"]
    assert error["code"] == "INVALID_CONFIGURATION"
    assert "RATE_LIMIT_LINKS_PER_MINUTE" in error["message"]


def test_create_company_and_api_key(env: dict[str, str]) -> None:
    company = as_json(gateway(["create-company", "--name", "CLI Co", "--id", "acct_cli", "--json"], env))
    key = as_json(gateway(["create-api-key", "--company", "acct_cli", "--json"], env))

    assert company == {"id": "acct_cli"}
    assert list(key) == ["keyId", "secret"]
    assert key["keyId"].startswith("mk_makepay_")


def test_duplicate_company_is_a_clear_error(env: dict[str, str]) -> None:
    gateway(["create-company", "--name", "Dup", "--id", "acct_dup"], env)
    result = gateway(["create-company", "--name", "Dup", "--id", "acct_dup", "--json"], env, check=False)
    assert result.returncode == 1
    assert as_json(result)["error"]["code"] == "CONFLICT"


def test_invalid_company_id_is_refused(env: dict[str, str]) -> None:
    result = gateway(["create-company", "--name", "Bad", "--id", "nope"], env, check=False)
    assert result.returncode == 1
    assert "acct_" in result.stderr


def test_key_for_unknown_company_is_refused(env: dict[str, str]) -> None:
    result = gateway(["create-api-key", "--company", "acct_missing", "--json"], env, check=False)
    assert result.returncode == 1
    assert as_json(result)["error"]["code"] == "NOT_FOUND"


def test_revoke_api_key(env: dict[str, str]) -> None:
    gateway(["create-company", "--name", "Rev", "--id", "acct_rev"], env)
    key = as_json(gateway(["create-api-key", "--company", "acct_rev", "--json"], env))
    revoked = as_json(gateway(["revoke-api-key", key["keyId"], "--json"], env))
    unknown = gateway(["revoke-api-key", "mk_makepay_" + "z" * 28, "--json"], env, check=False)
    assert revoked == {"ok": True, "keyId": key["keyId"]}
    assert unknown.returncode == 1


def test_seed_demo_prints_a_key_and_a_portal_link(env: dict[str, str]) -> None:
    seeded = as_json(gateway(["seed-demo", "--json"], env))
    again = as_json(gateway(["seed-demo", "--if-empty", "--json"], env))
    assert seeded["seeded"] is True
    assert seeded["keyId"].startswith("mk_makepay_")
    assert "/billing?company=" in seeded["portalUrl"]
    assert again == {"ok": True, "seeded": False}


def test_export_schema_equals_the_committed_file(env: dict[str, str]) -> None:
    assert gateway(["export-schema"], env).stdout == (ROOT / "schema.graphql").read_text()
    assert as_json(gateway(["export-schema", "--json"], env))["sdl"] == (ROOT / "schema.graphql").read_text()


def test_invalid_setting_gives_a_clear_message(env: dict[str, str]) -> None:
    result = gateway(["create-company", "--name", "X"],
                     {**env, "RATE_LIMIT_LINKS_PER_MINUTE": "lots"}, check=False)
    assert result.returncode == 2
    assert "RATE_LIMIT_LINKS_PER_MINUTE" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_requires_signing_secrets(env: dict[str, str]) -> None:
    result = gateway(["create-company", "--name", "X"],
                     {**env, "ENVIRONMENT": "production", "PORTAL_SIGNING_SECRETS": ""}, check=False)
    assert result.returncode == 2
    assert "PORTAL_SIGNING_SECRETS" in result.stderr


# ---------------------------------------------------------------- set-branding

@pytest.fixture
def brand(env: dict[str, str], request: pytest.FixtureRequest) -> list[str]:
    """A fresh company, and the start of a set-branding command line for it."""
    company_id = f"acct_{request.node.name[-40:]}"
    gateway(["create-company", "--name", "Branded", "--id", company_id], env)
    return ["set-branding", "--company", company_id]


def test_set_branding_then_show_it(env: dict[str, str], brand: list[str]) -> None:
    result = as_json(gateway([*brand, "--accent-color", "#0F766E", "--support-email",
                              "Help@Example.com", "--support-url", "https://help.example.com",
                              "--json"], env))
    shown = gateway(brand, env)

    assert result == {"ok": True, "companyId": brand[2], "branding": {
        "accentColor": "#0f766e", "supportEmail": "help@example.com",
        "supportUrl": "https://help.example.com", "displayName": None}}
    assert "accentColor: #0f766e" in shown.stdout
    assert "displayName: (not set)" in shown.stdout


def test_set_branding_keeps_options_not_given_and_empty_clears(
    env: dict[str, str], brand: list[str]
) -> None:
    gateway([*brand, "--accent-color", "#1d4ed8", "--display-name", "Acme Cloud"], env)
    result = as_json(gateway([*brand, "--accent-color", "", "--json"], env))
    assert result["branding"] == {"accentColor": None, "supportEmail": None, "supportUrl": None,
                                  "displayName": "Acme Cloud"}


def test_set_branding_refuses_a_light_colour_with_the_reason(
    env: dict[str, str], brand: list[str]
) -> None:
    refused = gateway([*brand, "--accent-color", "#fde047"], env, check=False)
    refused_json = as_json(gateway([*brand, "--accent-color", "#fde047", "--json"], env, check=False))
    after = as_json(gateway([*brand, "--json"], env))

    assert refused.returncode == 1
    assert "contrast" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert refused_json["error"]["code"] == "BAD_REQUEST"
    assert after["branding"]["accentColor"] is None


def test_set_branding_of_an_unknown_company_is_not_found(env: dict[str, str]) -> None:
    result = gateway(["set-branding", "--company", "acct_missing", "--accent-color", "#0f766e",
                      "--json"], env, check=False)
    assert result.returncode == 1
    assert as_json(result)["error"]["code"] == "NOT_FOUND"


def test_seed_demo_brands_the_demo_company(env: dict[str, str]) -> None:
    seeded = as_json(gateway(["seed-demo", "--json"], env))
    shown = as_json(gateway(["set-branding", "--company", seeded["companyId"], "--json"], env))
    assert shown["branding"]["accentColor"] == "#0f766e"
    assert shown["branding"]["supportEmail"] == "support@example.com"


# ---------------------------------------------------------------- set-portal-settings

@pytest.fixture
def settings_command(env: dict[str, str], request: pytest.FixtureRequest) -> list[str]:
    company_id = f"acct_{request.node.name[-40:]}"
    gateway(["create-company", "--name", "Acme", "--id", company_id], env)
    return ["set-portal-settings", "--company", company_id]


def test_cli_sets_then_shows(env: dict[str, str], settings_command: list[str]) -> None:
    result = as_json(gateway([*settings_command, "--no-pause-enabled", "--cancellation-mode",
                              "AT_PERIOD_END", "--cancellation-reasons", "too_expensive,unused,other",
                              "--return-url", SETTINGS_CHANGED["returnUrl"], "--new-link-url",
                              SETTINGS_CHANGED["newLinkUrl"], "--default-locale", "de", "--json"], env))
    assert result == {"ok": True, "companyId": settings_command[2], "portalSettings": SETTINGS_CHANGED}
    shown = gateway(settings_command, env)
    assert "cancellationMode: AT_PERIOD_END" in shown.stdout


def test_cli_reset_restores_a_default_and_empty_reasons_ask_none(
    env: dict[str, str], settings_command: list[str]
) -> None:
    gateway([*settings_command, "--return-url", SETTINGS_CHANGED["returnUrl"]], env)
    result = as_json(gateway([*settings_command, "--reset", "returnUrl", "--cancellation-reasons", "",
                              "--json"], env))
    assert result["portalSettings"] == {**SETTINGS_DEFAULTS, "cancellationReasons": []}


def test_cli_refuses_invalid_input_and_changes_nothing(
    env: dict[str, str], settings_command: list[str]
) -> None:
    refused = gateway([*settings_command, "--no-pause-enabled", "--return-url", "http://acme.example",
                       "--json"], env, check=False)
    assert refused.returncode == 1
    assert as_json(refused)["error"]["code"] == "BAD_REQUEST"
    assert as_json(gateway([*settings_command, "--json"], env))["portalSettings"] == SETTINGS_DEFAULTS


def settings_changes(env: dict[str, str], company_id: str) -> list[dict[str, Any]]:
    """The company's settingsChanges, read as its merchant reads them: with an API key."""
    key = as_json(gateway(["create-api-key", "--company", company_id, "--json"], env))
    answer = graphql_answer(
        env, "{ settingsChanges { edges { node { action actorType actorId actorEmail "
        "changes { field before after } clientIp userAgent } } } }",
        {"x-makecrypto-key-id": key["keyId"], "x-makecrypto-key-secret": key["secret"]})
    return [edge["node"] for edge in answer["data"]["settingsChanges"]["edges"]]


OPERATOR_CHANGE = {"actorType": "OPERATOR", "actorId": None, "actorEmail": None,
                   "clientIp": None, "userAgent": None}


def test_cli_settings_change_is_recorded_as_the_operators(
    env: dict[str, str], settings_command: list[str]
) -> None:
    gateway([*settings_command, "--no-pause-enabled", "--default-locale", "en",
             "--return-url", SETTINGS_CHANGED["returnUrl"]], env)
    gateway([*settings_command, "--no-pause-enabled"], env)  # already so: nothing to record
    gateway([*settings_command, "--default-locale", "it"], env, check=False)  # refused
    gateway(settings_command, env)  # only shown

    assert settings_changes(env, settings_command[2]) == [{
        "action": "portal_settings.update", **OPERATOR_CHANGE, "changes": [
            {"field": "pauseEnabled", "before": True, "after": False},
            {"field": "returnUrl", "before": None, "after": SETTINGS_CHANGED["returnUrl"]}]}]


def test_cli_branding_change_is_recorded_as_the_operators(
    env: dict[str, str], brand: list[str]
) -> None:
    gateway([*brand, "--accent-color", "#0f766e", "--display-name", "Acme Cloud"], env)
    gateway([*brand, "--display-name", ""], env)
    gateway([*brand, "--accent-color", "#fde047"], env, check=False)  # refused: too light

    cleared, set_two = settings_changes(env, brand[2])

    assert set_two == {"action": "branding.update", **OPERATOR_CHANGE, "changes": [
        {"field": "accentColor", "before": None, "after": "#0f766e"},
        {"field": "displayName", "before": None, "after": "Acme Cloud"}]}
    assert cleared["changes"] == [{"field": "displayName", "before": "Acme Cloud", "after": None}]


# ---------------------------------------------------------------- create-portal-link

@pytest.fixture
def linked(env: dict[str, str]) -> list[str]:
    """A fresh demo company and customer, and the start of a create-portal-link command line."""
    seeded = as_json(gateway(["seed-demo", "--json"], env))
    return ["create-portal-link", "--company", seeded["companyId"], "--customer", seeded["customerUid"]]


def portal_answer(env: dict[str, str], url: str) -> dict[str, Any]:
    """The portal query, sent as the portal page sends it."""
    return graphql_answer(env, "{ portal { customer { name } } }",
                          {"x-makepay-portal": url.split("?", 1)[1]})


def graphql_answer(env: dict[str, str], query: str, headers: dict[str, str]) -> dict[str, Any]:
    """`query` sent to a gateway on the CLI's database. (The CLI runs its own event
    loop, so the tests that call it are not async.)"""
    return asyncio.run(_graphql_answer(env, query, headers))


async def _graphql_answer(env: dict[str, str], query: str, headers: dict[str, str]
                          ) -> dict[str, Any]:
    settings = Settings(database_url=env["DATABASE_URL"], environment="development", redis_url=None)
    app = create_app(settings)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        response = await client.post("/graphql", json={"query": query}, headers=headers)
    answer: dict[str, Any] = response.json()
    return answer


def test_create_portal_link_prints_a_link_that_opens_the_portal(
    env: dict[str, str], linked: list[str]
) -> None:
    created = as_json(gateway([*linked, "--json"], env))
    in_words = gateway(linked, env).stdout

    assert created["portalUrl"].startswith("https://makepay.io/billing?company=")
    assert created["customerUid"] == linked[-1]
    assert created["portalUrl"].split("?")[0] in in_words
    answer = portal_answer(env, created["portalUrl"])
    assert answer == {"data": {"portal": {"customer": {"name": "Ada Lovelace"}}}}


def test_a_negative_expiry_makes_an_expired_link(env: dict[str, str], linked: list[str]) -> None:
    created = as_json(gateway([*linked, "--expires-in", "-60", "--json"], env))

    answer = portal_answer(env, created["portalUrl"])
    assert answer["data"] is None
    assert answer["errors"][0]["extensions"]["code"] == "PORTAL_LINK_EXPIRED"


def test_an_expired_link_is_refused_in_production(env: dict[str, str], linked: list[str]) -> None:
    production = {**env, "ENVIRONMENT": "production", "PORTAL_BASE_URL": "https://portal.example.com",
                  "PORTAL_SIGNING_SECRETS": "production-signing-secret-0123456789abcdefghij",
                  "API_KEY_PEPPER": "production-api-key-pepper-0123456789abcdefghij"}
    refused = gateway([*linked, "--expires-in", "-60", "--json"], production, check=False)
    short = as_json(gateway([*linked, "--expires-in", "600", "--json"], production))

    assert refused.returncode == 1
    assert as_json(refused)["error"]["code"] == "BAD_REQUEST"
    assert "production" in as_json(refused)["error"]["message"]
    assert short["portalUrl"].startswith("https://portal.example.com/billing?")


def test_a_link_lives_at_most_24_hours(env: dict[str, str], linked: list[str]) -> None:
    refused = gateway([*linked, "--expires-in", "86401", "--json"], env, check=False)

    assert refused.returncode == 1
    assert as_json(refused)["error"]["code"] == "BAD_REQUEST"


def test_create_portal_link_for_an_unknown_customer(env: dict[str, str], linked: list[str]) -> None:
    missing = gateway([*linked[:-1], "cus_01m8pgt05m33vsgtr7001zb4e4", "--json"], env, check=False)
    malformed = gateway([*linked[:-1], "nope", "--json"], env, check=False)

    assert as_json(missing)["error"]["code"] == "NOT_FOUND"
    assert as_json(malformed)["error"]["code"] == "BAD_REQUEST"
