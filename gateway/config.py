from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_SIGNING_SECRET = "dev-only-portal-signing-secret-change-me-0123456789"  # noqa: S105 (development default; production requires PORTAL_SIGNING_SECRETS)
DEV_API_KEY_PEPPER = "dev-only-api-key-pepper-change-me-0123456789"
MIN_SECRET_LENGTH = 32


class WebhookWorkerMode(StrEnum):
    inline = "inline"  # deliveries run inside `gateway serve`
    external = "external"  # `gateway worker` processes deliver


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


def _split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Every setting comes from the environment or a `.env` file; see the README."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    environment: Environment = Environment.development
    database_url: str = "sqlite:///./gateway.db"
    # Per worker process. No overflow by default: an overflow connection is opened for
    # one request and closed at check-in, so under load every request past the pool
    # paid a connect (TLS negotiation, statement preparation); waiting a moment for a
    # pooled connection is cheaper.
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_max_overflow: int = Field(default=0, ge=0, le=200)
    redis_url: str | None = None
    redis_key_prefix: str = "mp"
    portal_signing_secrets: Annotated[list[str], NoDecode] = Field(default_factory=list)
    portal_base_url: str = "https://makepay.io"
    payment_base_url: str = "https://pay.makepay.io"
    api_key_pepper: str = ""
    rate_limit_links_per_minute: int = Field(default=120, ge=1)
    rate_limit_auth_failures_per_minute: int = Field(default=20, ge=1)
    rate_limit_portal_reads_per_minute: int = Field(default=300, ge=1)
    rate_limit_portal_writes_per_minute: int = Field(default=30, ge=1)
    clock_skew_seconds: int = Field(default=60, ge=0, le=3600)
    graphiql: bool | None = None
    introspection: bool | None = None
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    metrics_enabled: bool = True
    # The gateway's own GraphQL execution (gateway/graphql/schema.py); false runs
    # stock Strawberry execution. The limits and pre-checks apply either way.
    graphql_fast_path: bool = True
    # Bearer token for /metrics (docs/operations.md). Without one, /metrics is served
    # only outside production.
    metrics_token: str | None = None
    # HTTP limits (docs/operations.md): the whole body within this many seconds of the
    # request's head; the request line and headers at most this many bytes.
    body_read_timeout_seconds: float = Field(default=5.0, gt=0, le=300)
    max_header_bytes: int = Field(default=16 * 1024, ge=4096, le=1024 * 1024)
    shutdown_drain_seconds: float = Field(default=0.0, ge=0, le=300)
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: str = "INFO"
    log_json: bool = False
    api_key_cache_seconds: float = Field(default=30.0, ge=0, le=3600)  # see api_key/revocation.py
    # Dashboard sign-in (docs/dashboard.md). Argon2id defaults are RFC 9106's
    # low-memory profile; tests lower them, production should not.
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_absolute_hours: int = Field(default=12, ge=1, le=24 * 30)
    session_cookie_secure: bool | None = None
    # Sign-in limits (rate_limit/sign_in.py): past the per-account budget attempts are
    # slowed down, never refused; past the per-(account, IP) one, refused.
    rate_limit_login_failures_per_account: int = Field(default=10, ge=1)
    rate_limit_login_failures_per_account_and_ip: int = Field(default=5, ge=1)
    login_slowdown_seconds: float = Field(default=2.0, ge=0, le=30)
    password_hash_time_cost: int = Field(default=3, ge=1, le=20)
    password_hash_memory_kib: int = Field(default=65536, ge=1024, le=1024 * 1024)
    password_hash_parallelism: int = Field(default=4, ge=1, le=16)
    # Webhooks (docs/webhooks.md). The worker mode defaults to inline on SQLite.
    webhook_worker: WebhookWorkerMode | None = None
    webhook_concurrency: int = Field(default=8, ge=1, le=256)
    webhook_timeout_seconds: float = Field(default=15.0, gt=0, le=60)
    webhook_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    webhook_allow_private_targets: bool | None = None
    # Newest first: endpoint secrets are encrypted with the first, read with any. Unset,
    # one key is derived from API_KEY_PEPPER (webhook/secrets.py).
    webhook_encryption_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    event_retention_days: int = Field(default=30, ge=1, le=3650)

    _split = field_validator(
        "portal_signing_secrets", "cors_origins", "trusted_proxies", "webhook_encryption_keys",
        mode="before"
    )(_split_csv)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        scheme = value.split(":", 1)[0]
        if scheme not in {"sqlite", "sqlite+aiosqlite", "postgresql", "postgres",
                          "postgresql+asyncpg"}:
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if urlsplit(value).scheme not in {"redis", "rediss", "unix"}:
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("portal_base_url", "payment_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"https", "http"} or not parts.netloc:
            raise ValueError("must be an absolute http:// or https:// URL")
        if parts.path not in {"", "/"} or parts.query or parts.fragment:
            raise ValueError("must be a bare origin such as https://makepay.io")
        return f"{parts.scheme}://{parts.netloc}"

    @model_validator(mode="after")
    def _secrets(self) -> Settings:
        production = self.environment is Environment.production
        if not self.portal_signing_secrets:
            if production:
                raise ValueError("PORTAL_SIGNING_SECRETS is required in production")
            object.__setattr__(self, "portal_signing_secrets", [DEV_SIGNING_SECRET])
        if not self.api_key_pepper:
            if production:
                raise ValueError("API_KEY_PEPPER is required in production")
            object.__setattr__(self, "api_key_pepper", DEV_API_KEY_PEPPER)
        if self.metrics_token == "":
            object.__setattr__(self, "metrics_token", None)
        for secret in [*self.portal_signing_secrets, self.api_key_pepper,
                       *([self.metrics_token] if self.metrics_token else []),
                       *self.webhook_encryption_keys]:
            if len(secret) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"signing secrets, the API key pepper, the metrics token and encryption "
                    f"keys need at least {MIN_SECRET_LENGTH} characters"
                )
        if production and self.portal_base_url.startswith("http://"):
            raise ValueError("PORTAL_BASE_URL must be https:// in production")
        if production and self.session_cookie_secure is False:
            raise ValueError("SESSION_COOKIE_SECURE cannot be false in production")
        return self

    @property
    def is_development(self) -> bool:
        return self.environment is not Environment.production

    @property
    def session_cookie_secure_enabled(self) -> bool:
        """The session cookie is Secure everywhere but in development (plain http on
        localhost), unless SESSION_COOKIE_SECURE says otherwise."""
        if self.session_cookie_secure is not None:
            return self.session_cookie_secure
        return self.environment is not Environment.development

    @property
    def webhook_worker_inline(self) -> bool:
        if self.webhook_worker is None:
            return self.is_sqlite
        return self.webhook_worker is WebhookWorkerMode.inline

    @property
    def webhook_private_targets_allowed(self) -> bool:
        if self.webhook_allow_private_targets is None:
            return self.is_development
        return self.webhook_allow_private_targets

    @property
    def graphiql_enabled(self) -> bool:
        return self.is_development if self.graphiql is None else self.graphiql

    @property
    def introspection_enabled(self) -> bool:
        return self.is_development if self.introspection is None else self.introspection

    @cached_property
    def async_database_url(self) -> str:
        url = self.database_url
        for plain, driver in (
            ("postgresql+asyncpg://", "postgresql+asyncpg://"),
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
            ("sqlite+aiosqlite://", "sqlite+aiosqlite://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if url.startswith(plain):
                return driver + url[len(plain):]
        raise AssertionError(url)  # unreachable: validated above

    @property
    def is_sqlite(self) -> bool:
        return self.async_database_url.startswith("sqlite")


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
