"""Settings from the environment, validated once at start (table in README)."""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DEV_DATA_DIR = REPO_ROOT / ".devdata"
DEFAULT_PURCHASE_LOCK_FILE = os.path.join(tempfile.gettempdir(), "ticketing-purchases.lock")
PRODUCTION_IMAGE_DIR = Path("/app/media")  # the Docker image creates it, owned by the app user


class ConfigError(Exception):
    """The environment does not describe a runnable service."""


@dataclass(frozen=True)
class Settings:
    app_env: str = "development"
    database_url: str = ""
    jwt_secret: str = field(default="", repr=False)
    jwt_ttl_seconds: int = 3600
    webhook_secret: str | None = field(default=None, repr=False)  # comma-separated: rotation
    webhook_tolerance_seconds: int = 300
    webhook_require_signature: bool = False
    default_currency: str = "BRL"
    # Outgoing webhooks (docs/webhooks.md)
    webhook_timeout_seconds: int = 5
    webhook_retry_hours: int = 24
    webhook_retry_first_seconds: float = 5.0
    webhook_delivery_seconds: float = 1.0  # 0: no background delivery in this process
    webhook_allow_private_targets: bool = False
    # The Ed25519 seed (32 bytes) that signs ticket codes (ticketing/tickets/codes.py).
    ticket_signing_key: bytes = field(default=b"", repr=False)
    webhook_log_retention_days: int = 30
    admin_email: str | None = None
    admin_password: str | None = field(default=None, repr=False)
    admin_name: str | None = None
    db_pool_size: int = 2
    db_pool_timeout_ms: int = 2000
    db_statement_timeout_ms: int = 5000
    db_lock_timeout_ms: int = 3000
    # "none": a direct connection (the purchase is PREPAREd once per connection, timeouts are
    # startup options); "transaction": behind a transaction pooler such as PgBouncer
    # (no session state: plain statements, timeouts by SET LOCAL in each transaction).
    db_pooler: str = "none"
    bcrypt_rounds: int = 12
    max_tickets_per_order: int = 10
    order_hold_seconds: int = 900
    # Purchase batching (docs/performance.md): purchases of one event that arrive while one
    # of its purchases is in flight are sold together by sql/orders/purchase_batch.sql.
    purchase_batching: bool = True
    purchase_batch_max: int = 32
    purchase_batch_window_seconds: float = 0.0  # the leader waits this long for company
    purchase_batch_wait_seconds: float = 2.0  # longest wait in line before 503
    # The file whose record locks make the app processes of one machine send one purchase
    # statement per event at a time (ticketing/orders/machine_lock.py); None: off.
    purchase_lock_file: str | None = DEFAULT_PURCHASE_LOCK_FILE
    # The same group commit for the waiting room (docs/waiting-room.md#joins-and-polls-in-batches):
    # joins (polls) of one event arriving while one is in flight are made (read) together.
    queue_batching: bool = True
    queue_batch_max: int = 32
    queue_batch_wait_seconds: float = 2.0
    expiry_sweep_seconds: float = 1.0  # 0: no background sweep (run `flask expire-orders`)
    queue_admit_seconds: float = 0.2  # 0: no background admission (run `flask admit-queue`)
    idempotency_key_ttl_seconds: int = 24 * 3600
    max_body_bytes: int = 64 * 1024
    retry_after_seconds: int = 2
    # Rate limits (README): RATE_LIMITS=off turns every one off, nginx's per-IP ones too.
    rate_limits: bool = True
    login_free_failures: int = 5  # failed logins per email before each attempt must wait
    login_failure_window_seconds: int = 3600  # failures are forgotten after this long without one
    login_max_delay_seconds: int = 900  # the wait doubles per failure up to this
    dev_data_dir: Path = DEFAULT_DEV_DATA_DIR
    # Event images (docs/images.md): a local folder, or S3-compatible storage if s3_bucket.
    image_max_bytes: int = 5 * 1024 * 1024
    image_dir: Path | None = None  # None: <dev_data_dir>/images, or /app/media in production
    public_base_url: str | None = None  # prefix of local image URLs; None: the request's host
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None  # None: AWS itself
    s3_region: str | None = None
    s3_public_base_url: str | None = None  # None: <endpoint>/<bucket>, or the AWS bucket URL
    # Prometheus metrics (docs/operations.md): served by the gunicorn master, 0 = not served.
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0

    @property
    def production(self) -> bool:
        return self.app_env == "production"

    @property
    def webhook_secrets(self) -> tuple[str, ...]:
        """Every accepted payment-webhook secret (WEBHOOK_SECRET lists them, comma-separated)."""
        return _secrets(self.webhook_secret)

    @property
    def image_folder(self) -> Path:
        if self.image_dir is not None:
            return self.image_dir
        return PRODUCTION_IMAGE_DIR if self.production else self.dev_data_dir / "images"


def _default_pool_size(env) -> int:
    """DB_POOL_SIZE when unset: 4 for threaded workers (the app pool's default, gunicorn.conf.py:
    16 threads share 3 request connections and the background loops' one), 2 for sync
    workers (one for requests, one for the background loops)."""
    app_pool = (env.get("GUNICORN_POOL") or "app") == "app"
    worker_class = env.get("GUNICORN_WORKER_CLASS") or ("gthread" if app_pool else "sync")
    threads = env.get("GUNICORN_THREADS") or ("16" if app_pool else "1")
    try:
        threaded = int(threads) > 1 and worker_class in ("gthread", "sync")  # sync + threads: gthread
    except ValueError:
        threaded = False
    return 4 if threaded else 2


def _int(env, name, default, low, high):
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _switch(env, name, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw not in ("on", "off"):
        raise ConfigError(f"{name} must be 'on' or 'off', got {raw!r}")
    return raw == "on"


def _choice(env, name, default: str, choices: tuple[str, ...]) -> str:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {env.get(name)!r}")
    return raw


def _bool(env, name, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {env.get(name)!r}")


def _secrets(raw: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (raw or "").split(",") if part.strip())


CURRENCY_PATTERN = r"^[A-Z]{3}$"


def _currency(env, name, default: str) -> str:
    raw = env.get(name) or default
    if not re.fullmatch(CURRENCY_PATTERN, raw):
        raise ConfigError(f"{name} must be an ISO 4217 code (three capital letters), got {raw!r}")
    return raw


def _http_url(env, name) -> str | None:
    """An optional http(s) URL prefix, without its trailing slash."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"{name} must be an http(s) URL with no query, got {raw!r}")
    return raw.rstrip("/")


_DEV_SECRETS = {
    "JWT_SECRET": lambda: secrets.token_urlsafe(48),
    "WEBHOOK_SECRET": lambda: secrets.token_urlsafe(32),
    "TICKET_SIGNING_KEY": lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
}


def _dev_secrets(data_dir: Path) -> dict:
    """Secrets generated once per development checkout, kept out of git. A file written
    before a secret existed gains it, and keeps the ones it has."""
    path = data_dir / "secrets.json"
    values = json.loads(path.read_text()) if path.exists() else {}
    missing = [name for name in _DEV_SECRETS if not values.get(name)]
    if not missing:
        return values
    data_dir.mkdir(parents=True, exist_ok=True)
    values.update({name: _DEV_SECRETS[name]() for name in missing})
    tmp = path.with_suffix(".tmp")
    # Created 0600, so the secrets are never readable by others, not even for a moment.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(values, indent=2))
    tmp.chmod(0o600)  # a stale .tmp may have had other permissions
    tmp.replace(path)
    return values


def _signing_key(raw: str) -> bytes:
    """TICKET_SIGNING_KEY: the standard base64 of a 32-byte Ed25519 seed."""
    from ticketing.tickets import codes

    try:
        seed = base64.b64decode(raw.strip(), validate=True)
        codes.check_seed(seed)
    except (binascii.Error, ValueError):
        raise ConfigError(
            "TICKET_SIGNING_KEY must be the standard base64 of a 32-byte Ed25519 seed; generate one with"
            " python3 -c 'import base64,os;print(base64.b64encode(os.urandom(32)).decode())'"
        ) from None
    return seed


def load_settings(env=None) -> Settings:
    env = dict(os.environ if env is None else env)
    app_env = env.get("APP_ENV", "development")
    if app_env not in ("development", "production"):
        raise ConfigError(f"APP_ENV must be 'development' or 'production', got {app_env!r}")
    production = app_env == "production"
    data_dir = Path(env.get("DEV_DATA_DIR") or DEFAULT_DEV_DATA_DIR)

    database_url = env.get("DATABASE_URL", "")
    if not database_url:
        if production:
            raise ConfigError("DATABASE_URL is required when APP_ENV=production")
        try:
            from ticketing import devdb

            database_url = devdb.resolve_url()
        except ImportError as exc:  # pgserver is a development dependency
            raise ConfigError(f"DATABASE_URL is unset and no embedded PostgreSQL: {exc}") from None

    jwt_secret = env.get("JWT_SECRET") or ""
    webhook_secret = env.get("WEBHOOK_SECRET") or None
    signing_key = env.get("TICKET_SIGNING_KEY") or ""
    if production:
        if len(jwt_secret.encode()) < 32:
            raise ConfigError("JWT_SECRET of at least 32 bytes is required when APP_ENV=production")
        if webhook_secret is not None and (
            not _secrets(webhook_secret) or any(len(s.encode()) < 16 for s in _secrets(webhook_secret))
        ):
            raise ConfigError(
                "WEBHOOK_SECRET must be at least 16 bytes, each if several are listed"
                " (or unset: the webhook then answers 503)"
            )
        if not signing_key:
            raise ConfigError("TICKET_SIGNING_KEY is required when APP_ENV=production")
    else:
        generated = None
        if not jwt_secret or not webhook_secret or not signing_key:
            generated = _dev_secrets(data_dir)
        jwt_secret = jwt_secret or generated["JWT_SECRET"]
        webhook_secret = webhook_secret or generated["WEBHOOK_SECRET"]
        signing_key = signing_key or generated["TICKET_SIGNING_KEY"]
        if len(jwt_secret.encode()) < 32:
            raise ConfigError("JWT_SECRET must be at least 32 bytes")

    port = _int(env, "PORT", 8080, 1, 65535)
    admin = {k: env.get(k) or None for k in ("ADMIN_EMAIL", "ADMIN_PASSWORD", "ADMIN_NAME")}
    if admin["ADMIN_EMAIL"] and not admin["ADMIN_PASSWORD"]:
        raise ConfigError("ADMIN_EMAIL is set but ADMIN_PASSWORD is not")

    return Settings(
        app_env=app_env,
        database_url=database_url,
        jwt_secret=jwt_secret,
        jwt_ttl_seconds=_int(env, "JWT_TTL_SECONDS", 3600, 60, 7 * 24 * 3600),
        webhook_secret=webhook_secret,
        webhook_tolerance_seconds=_int(env, "WEBHOOK_TOLERANCE_SECONDS", 300, 1, 24 * 3600),
        webhook_require_signature=_bool(env, "WEBHOOK_REQUIRE_SIGNATURE", False),
        default_currency=_currency(env, "DEFAULT_CURRENCY", "BRL"),
        webhook_timeout_seconds=_int(env, "WEBHOOK_TIMEOUT_SECONDS", 5, 1, 60),
        webhook_retry_hours=_int(env, "WEBHOOK_RETRY_HOURS", 24, 1, 24 * 30),
        webhook_retry_first_seconds=_int(env, "WEBHOOK_RETRY_FIRST_MS", 5000, 100, 10000) / 1000,
        webhook_delivery_seconds=_int(env, "WEBHOOK_DELIVERY_MS", 1000, 0, 60000) / 1000,
        webhook_allow_private_targets=_bool(env, "WEBHOOK_ALLOW_PRIVATE_TARGETS", False),
        ticket_signing_key=_signing_key(signing_key),
        webhook_log_retention_days=_int(env, "WEBHOOK_LOG_RETENTION_DAYS", 30, 1, 3650),
        admin_email=admin["ADMIN_EMAIL"],
        admin_password=admin["ADMIN_PASSWORD"],
        admin_name=admin["ADMIN_NAME"] or "Administrator",
        db_pool_size=_int(env, "DB_POOL_SIZE", _default_pool_size(env), 1, 200),
        db_pool_timeout_ms=_int(env, "DB_POOL_TIMEOUT_MS", 2000, 0, 60000),
        db_statement_timeout_ms=_int(env, "DB_STATEMENT_TIMEOUT_MS", 5000, 100, 600000),
        db_lock_timeout_ms=_int(env, "DB_LOCK_TIMEOUT_MS", 3000, 100, 600000),
        db_pooler=_choice(env, "DB_POOLER", "none", ("none", "transaction")),
        bcrypt_rounds=_int(env, "BCRYPT_ROUNDS", 12, 4, 16),
        max_tickets_per_order=_int(env, "MAX_TICKETS_PER_ORDER", 10, 1, 100),
        order_hold_seconds=_int(env, "ORDER_HOLD_SECONDS", 900, 1, 7 * 24 * 3600),
        purchase_batching=_switch(env, "PURCHASE_BATCHING", True),
        purchase_batch_max=_int(env, "PURCHASE_BATCH_MAX", 32, 1, 1000),
        purchase_batch_window_seconds=_int(env, "PURCHASE_BATCH_WINDOW_MS", 0, 0, 1000) / 1000,
        purchase_batch_wait_seconds=_int(env, "PURCHASE_BATCH_WAIT_MS", 2000, 1, 60000) / 1000,
        purchase_lock_file=_lock_file(env, "PURCHASE_LOCK_FILE"),
        queue_batching=_switch(env, "QUEUE_BATCHING", True),
        queue_batch_max=_int(env, "QUEUE_BATCH_MAX", 32, 1, 1000),
        queue_batch_wait_seconds=_int(env, "QUEUE_BATCH_WAIT_MS", 2000, 1, 60000) / 1000,
        expiry_sweep_seconds=_int(env, "EXPIRY_SWEEP_MS", 1000, 0, 60000) / 1000,
        queue_admit_seconds=_int(env, "QUEUE_ADMIT_MS", 200, 0, 60000) / 1000,
        idempotency_key_ttl_seconds=_int(
            env, "IDEMPOTENCY_KEY_TTL_SECONDS", 24 * 3600, 24 * 3600, 30 * 24 * 3600
        ),
        max_body_bytes=_int(env, "MAX_BODY_BYTES", 64 * 1024, 1024, 10 * 1024 * 1024),
        rate_limits=_switch(env, "RATE_LIMITS", True),
        login_free_failures=_int(env, "LOGIN_FREE_FAILURES", 5, 1, 1000),
        login_failure_window_seconds=_int(env, "LOGIN_FAILURE_WINDOW_SECONDS", 3600, 1, 30 * 24 * 3600),
        login_max_delay_seconds=_int(env, "LOGIN_MAX_DELAY_SECONDS", 900, 1, 24 * 3600),
        dev_data_dir=data_dir,
        image_max_bytes=_int(env, "IMAGE_MAX_BYTES", 5 * 1024 * 1024, 1024, 100 * 1024 * 1024),
        image_dir=Path(env["IMAGE_DIR"]) if env.get("IMAGE_DIR") else None,
        public_base_url=_http_url(env, "PUBLIC_BASE_URL"),
        s3_bucket=env.get("S3_BUCKET") or None,
        s3_endpoint_url=_http_url(env, "S3_ENDPOINT_URL"),
        s3_region=env.get("S3_REGION") or None,
        s3_public_base_url=_http_url(env, "S3_PUBLIC_BASE_URL"),
        metrics_host=env.get("METRICS_HOST") or "127.0.0.1",
        metrics_port=_metrics_port(env, port),
    )


def _lock_file(env, name) -> str | None:
    """An absolute path in an existing folder, "off" (None), or unset: one file for every
    app process on the machine (the event's id picks the byte locked in it)."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return DEFAULT_PURCHASE_LOCK_FILE
    if raw.lower() == "off":
        return None
    if not os.path.isabs(raw) or not os.path.isdir(os.path.dirname(raw)) or os.path.isdir(raw):
        raise ConfigError(f"{name} must be 'off' or an absolute path in an existing folder, got {raw!r}")
    return raw


def default_metrics_port(port: int) -> int:
    """METRICS_PORT when unset: the public port + 1000 (8080 -> 9080), so servers on one
    machine on different ports get different metrics ports."""
    return port + 1000 if port + 1000 <= 65535 else 0


def _metrics_port(env, port: int) -> int:
    value = _int(env, "METRICS_PORT", default_metrics_port(port), 0, 65535)
    if value and value == port:
        raise ConfigError(f"METRICS_PORT must differ from PORT ({port}): metrics are never public")
    return value
