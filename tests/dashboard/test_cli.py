"""gateway create-user, grant and revoke, run as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from gateway.cli import app
from tests.dashboard.conftest import CHEAP_HASHING

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def gateway_cli(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Any]:
    """Runs `gateway ...` against its own migrated SQLite file."""
    path: Path = tmp_path_factory.mktemp("cli") / "gateway.db"
    env = {"DATABASE_URL": f"sqlite:///{path}", "ENVIRONMENT": "test", "REDIS_URL": "",
           **{name.upper(): str(value) for name, value in CHEAP_HASHING.items()}}
    runner = CliRunner()

    def run(*args: str, input: str | None = None, process: bool = False) -> Any:
        if process:
            # A real process, for the password prompt: CliRunner's stand-in for
            # getpass writes to stdout, which a terminal's does not.
            return subprocess.run(
                [sys.executable, "-m", "gateway", *args], input=input, capture_output=True,
                text=True, env={**os.environ, **env}, timeout=60, check=False)
        return runner.invoke(app, list(args), env=env, input=input)

    assert run("migrate", "--json").exit_code == 0
    created = run("create-company", "--name", "Acme", "--id", "acct_cli", "--json")
    assert created.exit_code == 0, created.output
    return run


def as_json(result: Any) -> Any:
    assert result.stdout.count("\n") == 1, result.stdout
    return orjson.loads(result.stdout)


class TestCreateUser:
    def test_with_a_password_option(self, gateway_cli: Callable[..., Any]) -> None:
        result = gateway_cli("create-user", "--email", "Ops@Example.com", "--password", PASSWORD,
                             "--name", "Ops", "--json")

        assert result.exit_code == 0, result.output
        body = as_json(result)
        assert body["email"] == "ops@example.com"
        assert len(body["id"]) == 36
        assert PASSWORD not in result.output

    def test_prompts_twice_without_echo(self, gateway_cli: Callable[..., Any]) -> None:
        result = gateway_cli("create-user", "--email", "prompted@example.com", "--json",
                             input=f"{PASSWORD}\n{PASSWORD}\n", process=True)

        assert result.returncode == 0, result.stderr
        assert as_json(result)["email"] == "prompted@example.com"
        assert PASSWORD not in result.stdout + result.stderr
        assert "Password" in result.stderr

    def test_prompt_asks_again_when_the_confirmation_differs(
        self, gateway_cli: Callable[..., Any]
    ) -> None:
        result = gateway_cli("create-user", "--email", "mismatch@example.com", "--json",
                             input=f"{PASSWORD}\nsomething else entirely\n{PASSWORD}\n{PASSWORD}\n",
                             process=True)

        assert result.returncode == 0, result.stderr
        assert "do not match" in result.stderr
        assert as_json(result)["email"] == "mismatch@example.com"

    def test_refuses_a_short_password(self, gateway_cli: Callable[..., Any]) -> None:
        result = gateway_cli("create-user", "--email", "weak@example.com", "--password", "short",
                             "--json")

        assert result.exit_code == 1
        assert as_json(result)["error"]["code"] == "BAD_REQUEST"

    def test_refuses_a_duplicate(self, gateway_cli: Callable[..., Any]) -> None:
        gateway_cli("create-user", "--email", "dup@example.com", "--password", PASSWORD)

        result = gateway_cli("create-user", "--email", "dup@example.com", "--password", PASSWORD)

        assert result.exit_code == 1
        assert "already exists" in result.stderr


class TestGrantAndRevoke:
    def test_grant_then_revoke(self, gateway_cli: Callable[..., Any]) -> None:
        gateway_cli("create-user", "--email", "admin@example.com", "--password", PASSWORD)

        granted = gateway_cli("grant", "--user", "admin@example.com", "--company", "acct_cli",
                              "--permission", "settings.manage", "--json")
        also = gateway_cli("grant", "--user", "admin@example.com", "--company", "acct_cli",
                           "--permission", "payments.read", "--json")
        revoked = gateway_cli("revoke", "--user", "admin@example.com", "--company", "acct_cli",
                              "--permission", "settings.manage", "--json")

        assert granted.exit_code == also.exit_code == revoked.exit_code == 0
        assert as_json(granted) == {"ok": True, "user": "admin@example.com",
                                    "companyId": "acct_cli", "permissions": ["settings.manage"]}
        assert as_json(also)["permissions"] == ["settings.manage", "payments.read"]
        assert as_json(revoked)["permissions"] == ["payments.read"]

    def test_grant_refuses_an_unknown_permission(self, gateway_cli: Callable[..., Any]) -> None:
        gateway_cli("create-user", "--email", "typo@example.com", "--password", PASSWORD)

        result = gateway_cli("grant", "--user", "typo@example.com", "--company", "acct_cli",
                             "--permission", "settings.mange", "--json")

        assert result.exit_code == 1
        body = as_json(result)
        assert body["error"]["code"] == "BAD_REQUEST"
        assert "settings.manage" in body["error"]["message"]

    @pytest.mark.parametrize(("user", "company"), [
        ("ghost@example.com", "acct_cli"), ("admin2@example.com", "acct_nosuch"),
    ])
    def test_grant_needs_an_existing_user_and_company(
        self, gateway_cli: Callable[..., Any], user: str, company: str
    ) -> None:
        gateway_cli("create-user", "--email", "admin2@example.com", "--password", PASSWORD)

        result = gateway_cli("grant", "--user", user, "--company", company,
                             "--permission", "settings.manage", "--json")

        assert result.exit_code == 1
        assert as_json(result)["error"]["code"] == "NOT_FOUND"

    def test_human_output(self, gateway_cli: Callable[..., Any]) -> None:
        gateway_cli("create-user", "--email", "human@example.com", "--password", PASSWORD)

        result = gateway_cli("grant", "--user", "human@example.com", "--company", "acct_cli",
                             "--permission", "settings.manage")

        assert result.exit_code == 0
        assert result.stdout.strip() == "human@example.com on acct_cli: settings.manage"
