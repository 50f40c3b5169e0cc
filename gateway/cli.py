"""The `gateway` command (contract section 7). Every command takes --json."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol, TypeVar

import orjson
import typer
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from typer.core import TyperGroup

from gateway.config import Settings, load_settings
from gateway.errors import GatewayError
from gateway.signing.link import LINK_TTL_SECONDS

if TYPE_CHECKING:
    from gateway.audit.service import SettingsActor
    from gateway.company.service import CompanyService

T = TypeVar("T")
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]


def json_error(code: str, message: str) -> None:
    sys.stdout.write(orjson.dumps({"ok": False, "error": {"code": code, "message": message}}).decode() + "\n")


class JsonUsageErrors(TyperGroup):
    """With --json anywhere on the command line, a usage error (a missing or unknown
    option, a bad value, an unknown command) is one JSON object on stdout, as every
    other answer is, instead of typer's box on stderr; the exit status stays 2."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             windows_expand_args: bool = True, **extra: Any) -> Any:
        argv = sys.argv[1:] if args is None else list(args)
        if "--json" not in argv or not standalone_mode:
            return super().main(argv, prog_name, complete_var, standalone_mode, windows_expand_args,
                                **extra)
        try:
            result = super().main(argv, prog_name, complete_var, False, windows_expand_args, **extra)
        except typer.TyperException as exc:  # typer's UsageError and BadParameter among them
            json_error("BAD_REQUEST", exc.format_message())
            sys.exit(exc.exit_code)
        except typer.Abort:
            json_error("ABORTED", "Aborted.")
            sys.exit(1)
        # Without standalone mode click returns an Exit's status instead of exiting.
        sys.exit(result if isinstance(result, int) else 0)


app = typer.Typer(cls=JsonUsageErrors, help="MakePay portal gateway.", no_args_is_help=True,
                  add_completion=False)


def settings_or_exit(as_json: bool = False) -> Settings:
    try:
        return load_settings()
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in error['loc']).upper() or 'settings'}: {error['msg']}"
                    for error in exc.errors()]
        if as_json:
            json_error("INVALID_CONFIGURATION", "Invalid configuration: " + "; ".join(problems))
        else:
            typer.echo("Invalid configuration:", err=True)
            for problem in problems:
                typer.echo(f"  {problem}", err=True)
        raise typer.Exit(2) from None


def emit(as_json: bool, data: dict[str, Any], text: str) -> None:
    if as_json:
        sys.stdout.write(orjson.dumps(data).decode() + "\n")
    else:
        typer.echo(text)


def listing(title: str, values: dict[str, Any]) -> str:
    """A title and one indented `key: value` line per entry, for the text output."""
    return "\n".join([title] + [f"  {key}: {value if value is not None else '(not set)'}"
                                for key, value in values.items()])


def fail(as_json: bool, error: GatewayError) -> None:
    if as_json:
        json_error(error.code, error.message)
    else:
        typer.echo(f"error: {error.message}", err=True)
    raise typer.Exit(1)


def run_in_session(
    settings: Settings, as_json: bool, work: Callable[[AsyncSession], Awaitable[T]]
) -> T:
    from gateway.db import create_engine, create_session_factory

    async def main() -> T:
        engine = create_engine(settings)
        try:
            async with create_session_factory(engine)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except GatewayError as exc:
        fail(as_json, exc)
        raise AssertionError("unreachable") from exc


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT", help="Port to bind.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, envvar="WEB_CONCURRENCY",
                                         help="Worker processes.")] = 1,
    access_log: Annotated[bool, typer.Option(help="Log one line per request (no query strings).")] = True,
) -> None:
    """Serve the gateway with uvicorn (uvloop, httptools; request heads limited to
    MAX_HEADER_BYTES, see gateway/http_protocol.py)."""
    import uvicorn

    from gateway.logging import configure_logging
    from gateway.metrics import clear_multiprocess_dir

    settings = settings_or_exit()
    configure_logging(settings.log_level, settings.log_json)
    clear_multiprocess_dir()
    if not access_log:
        import logging
        import os

        logging.getLogger("gateway.access").disabled = True
        os.environ["GATEWAY_ACCESS_LOG"] = "false"  # for worker processes (gateway.asgi)
    uvicorn.run(
        "gateway.asgi:app",
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="gateway.http_protocol:GatewayHttpProtocol",
        # The head limit: h11's own, and the gateway's httptools protocol reads it too.
        h11_max_incomplete_event_size=settings.max_header_bytes,
        timeout_keep_alive=5,
        access_log=False,
        log_config=None,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=20,
    )


@app.command()
def migrate(as_json: JsonFlag = False) -> None:
    """Apply every pending schema migration."""
    from gateway import migrate as migrations

    settings = settings_or_exit(as_json)
    applied = migrations.upgrade(settings)
    head = migrations.head_revision()
    if applied:
        text = (f"Applied {len(applied)} migration{'s' if len(applied) > 1 else ''}: "
                f"{', '.join(applied)}. The database is at the latest migration ({head}).")
    else:
        text = f"Nothing to apply: the database is at the latest migration ({head})."
    emit(as_json, {"ok": True, "applied": applied, "revision": head}, text)


@app.command("create-company")
def create_company(
    name: Annotated[str, typer.Option(help="The company's name.")],
    company_id: Annotated[str | None, typer.Option("--id", help="acct_... (generated if omitted)")] = None,
    portal_domain: Annotated[str | None, typer.Option(help="A verified portal host name.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a company."""
    from gateway.company.service import CompanyService
    from gateway.kit.time import SystemClock

    settings = settings_or_exit(as_json)

    async def work(session: AsyncSession) -> str:
        service = CompanyService(session, SystemClock())
        company = await service.create(name, company_id)
        if portal_domain:
            await service.set_portal_domain(company.id, portal_domain, verified=True)
        return company.id

    created = run_in_session(settings, as_json, work)
    emit(as_json, {"id": created}, created)


@app.command("create-api-key")
def create_api_key(
    company: Annotated[str, typer.Option(help="The company the key acts for.")],
    name: Annotated[str, typer.Option(help="A label for the key.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Create an API key; the secret is printed once and only its hash is stored."""
    settings = settings_or_exit(as_json)
    key_id, secret = run_in_session(settings, as_json, lambda s: _create_key(settings, s, company, name))
    emit(as_json, {"keyId": key_id, "secret": secret},
         f"Key id:  {key_id}\nSecret:  {secret}\nStore the secret now: it is not shown again.")


async def _create_key(settings: Settings, session: AsyncSession, company: str, name: str) -> tuple[str, str]:
    from gateway.api_key.service import ApiKeyService
    from gateway.db import create_session_factory
    from gateway.kit.time import SystemClock

    service = ApiKeyService(create_session_factory(session.bind), SystemClock(),  # type: ignore[arg-type]
                            settings.api_key_pepper)
    created = await service.create(session, company, name)
    return created.key.id, created.secret


@app.command("revoke-api-key")
def revoke_api_key(key_id: Annotated[str, typer.Argument(help="mk_makepay_...")], as_json: JsonFlag = False) -> None:
    """Revoke an API key: it then fails like an unknown key, on every process within a
    second with Redis (within API_KEY_CACHE_SECONDS without)."""
    from gateway.api_key.revocation import publish_revocation
    from gateway.api_key.service import ApiKeyService
    from gateway.db import create_session_factory
    from gateway.keys import Keys
    from gateway.kit.time import SystemClock
    from gateway.models import ApiKey
    from gateway.store import create_store

    settings = settings_or_exit(as_json)

    async def work(session: AsyncSession) -> ApiKey:
        service = ApiKeyService(create_session_factory(session.bind), SystemClock(),  # type: ignore[arg-type]
                                settings.api_key_pepper)
        return await service.revoke(session, key_id)

    async def publish(key: ApiKey) -> bool:
        # After the commit (run_in_session's): a process that sees the mark and
        # reloads the key finds it revoked.
        store = create_store(settings.redis_url, cluster=settings.redis_cluster)
        try:
            return await publish_revocation(store, Keys(settings.redis_key_prefix), key)
        finally:
            await store.close()

    revoked = run_in_session(settings, as_json, work)
    everywhere = asyncio.run(publish(revoked)) if settings.redis_url else False
    if not everywhere:
        typer.echo(f"Other gateway processes refuse the key within {settings.api_key_cache_seconds:g} "
                   f"seconds (API_KEY_CACHE_SECONDS){', Redis being unavailable' if settings.redis_url else ''}.",
                   err=True)
    emit(as_json, {"ok": True, "keyId": revoked.id}, f"Revoked {revoked.id}.")


@app.command("create-user")
def create_user(
    email: Annotated[str, typer.Option(help="The user's sign-in email.")],
    password: Annotated[str | None, typer.Option(
        help="Prompted (hidden, twice) when omitted; prefer the prompt, since a command "
             "line can end up in shell history.")] = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a dashboard user (argon2id password hash)."""
    from gateway.dashboard.passwords import MIN_PASSWORD_LENGTH, Passwords
    from gateway.dashboard.service import TeamService
    from gateway.kit.time import SystemClock

    settings = settings_or_exit(as_json)
    if password is None:
        password = typer.prompt(f"Password (at least {MIN_PASSWORD_LENGTH} characters)",
                                hide_input=True, confirmation_prompt=True, err=True)

    async def work(session: AsyncSession) -> tuple[str, str]:
        user = await TeamService(session, SystemClock()).create_user(
            Passwords.from_settings(settings), email, password or "", name)
        return str(user.id), user.email

    user_id, user_email = run_in_session(settings, as_json, work)
    emit(as_json, {"id": user_id, "email": user_email}, f"Created user {user_email} ({user_id}).")


def _change_permission(user: str, company: str, permission: str, as_json: bool, *, add: bool) -> None:
    from gateway.dashboard.service import TeamService
    from gateway.kit.time import SystemClock

    settings = settings_or_exit(as_json)

    async def work(session: AsyncSession) -> list[str]:
        service = TeamService(session, SystemClock())
        change = service.grant if add else service.revoke
        membership = await change(user, company, permission)
        return list(membership.permissions)

    permissions = run_in_session(settings, as_json, work)
    emit(as_json, {"ok": True, "user": user, "companyId": company, "permissions": permissions},
         f"{user} on {company}: {', '.join(permissions) or '(no permissions)'}")


UserOption = Annotated[str, typer.Option(help="The user's email.")]
CompanyOption = Annotated[str, typer.Option(help="The company (acct_...).")]
PermissionOption = Annotated[str, typer.Option(help="e.g. settings.manage, payments.read")]


@app.command()
def grant(user: UserOption, company: CompanyOption, permission: PermissionOption,
          as_json: JsonFlag = False) -> None:
    """Give a user a permission on a company's team (joining the team if need be)."""
    _change_permission(user, company, permission, as_json, add=True)


@app.command()
def revoke(user: UserOption, company: CompanyOption, permission: PermissionOption,
           as_json: JsonFlag = False) -> None:
    """Take a permission away; it applies to the user's next request."""
    _change_permission(user, company, permission, as_json, add=False)


@app.command("set-branding")
def set_branding(
    company: Annotated[str, typer.Option(help="The company (acct_...).")],
    accent_color: Annotated[str | None, typer.Option(
        help="#RRGGBB with WCAG AA contrast against white; \"\" clears.")] = None,
    support_email: Annotated[str | None, typer.Option(help="Support email; \"\" clears.")] = None,
    support_url: Annotated[str | None, typer.Option(help="https:// help page; \"\" clears.")] = None,
    display_name: Annotated[str | None, typer.Option(
        help="Shown instead of the company name; \"\" clears.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Set a company's portal branding (options not given stay); with no option, show it.
    A change is recorded in the company's settingsChanges as the operator's."""
    from gateway.company.service import CompanyService

    given = {"accent_color": accent_color, "support_email": support_email,
             "support_url": support_url, "display_name": display_name}
    changes = {name: value or None for name, value in given.items() if value is not None}
    _show_or_change(company, as_json, lambda: changes, CompanyService.update_branding,
                    CompanyService.branding, key="branding", title="Portal branding")


@app.command("set-portal-settings")
def set_portal_settings(
    company: Annotated[str, typer.Option(help="The company (acct_...).")],
    pause_enabled: Annotated[bool | None, typer.Option(
        "--pause-enabled/--no-pause-enabled", help="Offer pause in the portal.")] = None,
    cancellation_mode: Annotated[str | None, typer.Option(
        help="IMMEDIATELY or AT_PERIOD_END.")] = None,
    cancellation_reasons: Annotated[str | None, typer.Option(
        help="Comma-separated reason codes offered at cancel; \"\" asks for none.")] = None,
    return_url: Annotated[str | None, typer.Option(
        help="https:// page the portal links back to.")] = None,
    new_link_url: Annotated[str | None, typer.Option(
        help="https:// page where customers get a new link.")] = None,
    default_locale: Annotated[str | None, typer.Option(help="en, de, fr or es.")] = None,
    reset: Annotated[list[str] | None, typer.Option(
        help="A setting to restore to its default (e.g. returnUrl); may be repeated.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Set a company's portal settings (options not given stay); with no option, show them.
    A change is recorded in the company's settingsChanges as the operator's."""
    from gateway.company.portal_settings import JSON_KEYS
    from gateway.company.service import CompanyService
    from gateway.errors import BadRequest

    reasons = None if cancellation_reasons is None else [
        code.strip() for code in cancellation_reasons.split(",") if code.strip()]
    given = {"pause_enabled": pause_enabled, "cancellation_mode": cancellation_mode,
             "cancellation_reasons": reasons, "return_url": return_url,
             "new_link_url": new_link_url, "default_locale": default_locale}
    names = {key: name for name, key in JSON_KEYS.items()}

    def changes() -> dict[str, Any]:
        changed: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
        for key in reset or ():
            if key not in names:
                raise BadRequest(f"--reset takes one of: {', '.join(names)}.", field="reset")
            changed[names[key]] = None
        return changed

    _show_or_change(company, as_json, changes, CompanyService.update_portal_settings,
                    CompanyService.portal_settings, key="portalSettings", title="Portal settings")


class _Public(Protocol):
    def public(self) -> dict[str, Any]: ...


def _show_or_change(
    company: str, as_json: bool, changes: Callable[[], Mapping[str, Any]],
    update: Callable[[CompanyService, str, Mapping[str, Any], SettingsActor], Awaitable[_Public]],
    read: Callable[[CompanyService, str], Awaitable[_Public]], *, key: str, title: str,
) -> None:
    """Applies `changes()` (made in the session, so an invalid option fails as any error
    does) through `update`, recorded as the operator's; with none, `read`s. Prints the
    result as the API shows it."""
    from gateway.audit.service import OPERATOR
    from gateway.company.service import CompanyService
    from gateway.kit.time import SystemClock

    settings = settings_or_exit(as_json)

    async def work(session: AsyncSession) -> dict[str, Any]:
        service = CompanyService(session, SystemClock())
        given = changes()
        found = await (update(service, company, given, OPERATOR) if given else read(service, company))
        return found.public()

    shown = run_in_session(settings, as_json, work)
    emit(as_json, {"ok": True, "companyId": company, key: shown},
         listing(f"{title} of {company}:", shown))


@app.command("create-portal-link")
def create_portal_link(
    company: CompanyOption,
    customer: Annotated[str, typer.Option(help="The customer's UUID or cus_... UID.")],
    expires_in: Annotated[int, typer.Option(
        help=f"Seconds until the link expires, at most {LINK_TTL_SECONDS}. Zero or negative "
             "makes an already expired link (to see the page's expired screen); refused in "
             "production.")] = LINK_TTL_SECONDS,
    as_json: JsonFlag = False,
) -> None:
    """Sign a portal link for a customer, as the merchant API does, and print it."""
    from gateway.event.payloads import portal_link_object
    from gateway.event.service import EventService, Source
    from gateway.keys import Keys
    from gateway.kit.time import SystemClock, iso_ms
    from gateway.portal_link.service import IssuedPortalLink, PortalLinkService
    from gateway.signing.link import PortalLinkSigner
    from gateway.store import create_store

    settings = settings_or_exit(as_json)

    async def work(session: AsyncSession) -> IssuedPortalLink:
        clock = SystemClock()
        # Issuing reads nothing from the store.
        store = create_store(settings.redis_url, clock, cluster=settings.redis_cluster)
        try:
            service = PortalLinkService(
                lambda: session, clock, PortalLinkSigner(settings.portal_signing_secrets, clock),
                store, Keys(settings.redis_key_prefix), settings.portal_base_url,
                settings.clock_skew_seconds, session.bind)  # type: ignore[arg-type]
            issued = await service.issue(company, customer, expires_in=expires_in,
                                         allow_expired=settings.is_development)
        finally:
            await store.close()
        await EventService(session, clock).emit(  # an operator's link is an event too
            issued.company_id, "portal_link.created", Source.system,
            portal_link_object(issued.customer, issued.expires_at))
        return issued

    issued = run_in_session(settings, as_json, work)
    expires_at = iso_ms(issued.expires_at)
    state = "expired" if expires_in <= 0 else "expires"
    emit(as_json, {"ok": True, "companyId": issued.company_id, "customerId": str(issued.customer.id),
                   "customerUid": issued.customer.uid, "portalUrl": issued.url, "expiresAt": expires_at},
         f"Portal link ({state} {expires_at}):\n  {issued.url}")


@app.command("seed-demo")
def seed_demo(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing when companies exist.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Create a demo company with data; print an API key and a portal link."""
    from gateway.seed import seed_demo as seed

    settings = settings_or_exit(as_json)
    result = run_in_session(settings, as_json, lambda s: seed(settings, s, if_empty=if_empty))
    if result is None:
        emit(as_json, {"ok": True, "seeded": False}, "Database already has data; not seeding.")
        return
    emit(as_json, {"ok": True, "seeded": True, **result}, "\n".join([
        f"Demo company:  {result['companyId']}",
        f"API key id:    {result['keyId']}",
        f"API secret:    {result['secret']}",
        f"Customer:      {result['customerId']} ({result['customerUid']})",
        f"Portal link:   {result['portalUrl']}",
    ]))


@app.command("export-schema")
def export_schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Print the GraphQL schema (SDL), or write it to a file."""
    from gateway.graphql.schema import export_sdl

    sdl = export_sdl()
    if output is not None:
        output.write_text(sdl)
        emit(as_json, {"ok": True, "path": str(output)}, f"Wrote {output}.")
    elif as_json:
        emit(True, {"sdl": sdl}, "")
    else:
        sys.stdout.write(sdl)


@app.command()
def worker(
    concurrency: Annotated[int | None, typer.Option(
        min=1, max=256, help="Deliveries in flight (default WEBHOOK_CONCURRENCY).")] = None,
    metrics_port: Annotated[int | None, typer.Option(
        help="Serve Prometheus metrics on this port (127.0.0.1 unless --metrics-host).")] = None,
    metrics_host: Annotated[str, typer.Option(help="Interface for --metrics-port.")] = "127.0.0.1",
) -> None:
    """Deliver webhooks until stopped (SIGTERM finishes the attempts in flight)."""
    from gateway.kit import loop
    from gateway.logging import configure_logging
    from gateway.webhook.worker import serve_worker

    settings = settings_or_exit()
    configure_logging(settings.log_level, settings.log_json)
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr=metrics_host)
    loop.run(serve_worker(settings, concurrency))


# --- webhooks -----------------------------------------------------------------

webhooks_app = typer.Typer(help="Webhook endpoints of a company (docs/webhooks.md).",
                           no_args_is_help=True)
app.add_typer(webhooks_app, name="webhooks")
EventTypeOption = Annotated[list[str] | None, typer.Option(
    "--event-type", help="A type to deliver (repeat the option); none: every type.")]


def _endpoint_json(endpoint: Any) -> dict[str, Any]:
    from gateway.kit.time import iso_ms

    return {"id": str(endpoint.id), "url": endpoint.url, "eventTypes": list(endpoint.event_types),
            "description": endpoint.description, "enabled": endpoint.enabled,
            "disabledReason": endpoint.disabled_reason, "createdAt": iso_ms(endpoint.created_at)}


def _endpoint_text(data: dict[str, Any]) -> str:
    state = "enabled" if data["enabled"] else f"disabled ({data['disabledReason'] or 'by you'})"
    return (f"{data['id']}  {data['url']}  [{', '.join(data['eventTypes']) or 'all events'}]"
            f"  {state}")


def _with_endpoints(as_json: bool, work: Callable[[Any], Awaitable[T]]) -> T:
    from gateway.kit.time import SystemClock
    from gateway.webhook.service import WebhookEndpointService

    settings = settings_or_exit(as_json)
    return run_in_session(settings, as_json, lambda session: work(
        WebhookEndpointService(session, SystemClock(), settings)))


def _secret_text(data: dict[str, Any], secret: str) -> str:
    return (f"{_endpoint_text(data)}\nSigning secret: {secret}\n"
            "Store the secret now: it is not shown again.")


@webhooks_app.command("create")
def webhooks_create(
    company: CompanyOption,
    url: Annotated[str, typer.Option(help="Where events are POSTed (https:// in production).")],
    event_type: EventTypeOption = None,
    description: Annotated[str | None, typer.Option(help="A note for your team.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Add an endpoint; prints its signing secret once."""
    async def work(service: Any) -> tuple[dict[str, Any], str]:
        created = await service.create(company, url, event_type, description)
        return _endpoint_json(created.endpoint), created.secret

    data, secret = _with_endpoints(as_json, work)
    emit(as_json, {"endpoint": data, "secret": secret}, _secret_text(data, secret))


@webhooks_app.command("list")
def webhooks_list(company: CompanyOption, as_json: JsonFlag = False) -> None:
    """The company's endpoints, newest first (up to 100)."""
    async def work(service: Any) -> list[dict[str, Any]]:
        page = await service.list(company, first=100)
        return [_endpoint_json(row) for row in page.items]

    rows = _with_endpoints(as_json, work)
    emit(as_json, {"endpoints": rows},
         "\n".join(_endpoint_text(row) for row in rows) or "No webhook endpoints.")


@webhooks_app.command("update")
def webhooks_update(
    endpoint_id: Annotated[str, typer.Argument(help="The endpoint's UUID.")],
    company: CompanyOption,
    url: Annotated[str | None, typer.Option(help="A new URL.")] = None,
    event_type: EventTypeOption = None,
    all_events: Annotated[bool, typer.Option("--all-events", help="Deliver every type.")] = False,
    description: Annotated[str | None, typer.Option(help="A new note; \"\" clears.")] = None,
    enabled: Annotated[bool | None, typer.Option("--enable/--disable",
                                                 help="Turn deliveries on or off.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Change an endpoint (options not given stay)."""
    changes: dict[str, Any] = {}
    if url is not None:
        changes["url"] = url
    if event_type or all_events:
        changes["event_types"] = [] if all_events else event_type
    if description is not None:
        changes["description"] = description or None
    if enabled is not None:
        changes["enabled"] = enabled

    async def work(service: Any) -> dict[str, Any]:
        return _endpoint_json(await service.update(company, endpoint_id, changes))

    data = _with_endpoints(as_json, work)
    emit(as_json, {"endpoint": data}, _endpoint_text(data))


@webhooks_app.command("delete")
def webhooks_delete(endpoint_id: Annotated[str, typer.Argument(help="The endpoint's UUID.")],
                    company: CompanyOption, as_json: JsonFlag = False) -> None:
    """Delete an endpoint and its delivery log."""
    async def work(service: Any) -> None:
        await service.delete(company, endpoint_id)

    _with_endpoints(as_json, work)
    emit(as_json, {"ok": True, "id": endpoint_id}, f"Deleted {endpoint_id}.")


@webhooks_app.command("rotate-secret")
def webhooks_rotate(endpoint_id: Annotated[str, typer.Argument(help="The endpoint's UUID.")],
                    company: CompanyOption, as_json: JsonFlag = False) -> None:
    """A new signing secret, printed once; the old one signs beside it for 24 hours."""
    async def work(service: Any) -> tuple[dict[str, Any], str]:
        rotated = await service.rotate(company, endpoint_id)
        return _endpoint_json(rotated.endpoint), rotated.secret

    data, secret = _with_endpoints(as_json, work)
    emit(as_json, {"endpoint": data, "secret": secret}, _secret_text(data, secret))


@webhooks_app.command("test")
def webhooks_test(endpoint_id: Annotated[str, typer.Argument(help="The endpoint's UUID.")],
                  company: CompanyOption, as_json: JsonFlag = False) -> None:
    """Queue a webhook.test event for this endpoint alone."""
    from gateway.event.ids import public_event_id
    from gateway.event.service import Source

    async def work(service: Any) -> str:
        return public_event_id((await service.send_test(company, endpoint_id, Source.system)).id)

    event_id = _with_endpoints(as_json, work)
    emit(as_json, {"ok": True, "eventId": event_id},
         f"Queued {event_id}; a worker delivers it (gateway worker, or WEBHOOK_WORKER=inline).")


@webhooks_app.command("listen")
def webhooks_listen(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 9000,
    secret: Annotated[str | None, typer.Option(
        envvar="MAKEPAY_WEBHOOK_SECRET", help="The endpoint's whsec_ secret, to check "
        "signatures.")] = None,
) -> None:
    """A local receiver for trying webhooks: prints each one it gets."""
    from gateway.webhook.listen import listen

    try:
        asyncio.run(listen(port, secret, typer.echo))
    except KeyboardInterrupt:
        pass


def main() -> None:
    app()
