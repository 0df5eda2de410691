"""Settings come from the environment and are validated once, before anything starts."""

import base64
import json
import os
import stat
import subprocess

import pytest

from tests.support import ROOT
from tests.support.samples import TICKET_SIGNING_KEY, UNREACHABLE_DATABASE_URL
from tests.support.servers import GUNICORN_COMMAND, free_port
from tests.support.timeouts import SERVER_START_TIMEOUT
from ticketing.config import ConfigError, load_settings

DB = "postgresql://ticketing@db.example.com:5432/ticketing"
GOOD_SECRET = "s" * 32


def production(**changes):
    env = {
        "APP_ENV": "production",
        "DATABASE_URL": DB,
        "JWT_SECRET": GOOD_SECRET,
        "TICKET_SIGNING_KEY": TICKET_SIGNING_KEY,
        **changes,
    }
    return {k: v for k, v in env.items() if v is not None}


@pytest.fixture
def development(tmp_path):
    def build(**changes):
        env = {"APP_ENV": "development", "DATABASE_URL": DB, "DEV_DATA_DIR": str(tmp_path / "dev"), **changes}
        return {k: v for k, v in env.items() if v is not None}

    return build


def test_production_requires_database_url():
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_settings(production(DATABASE_URL=None))


def test_production_requires_jwt_secret():
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        load_settings(production(JWT_SECRET=None))


@pytest.mark.parametrize("secret", ["", "short", "x" * 31, "é" * 15])  # "é" * 15 is 30 bytes
def test_production_rejects_a_short_jwt_secret(secret):
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        load_settings(production(JWT_SECRET=secret))


def test_jwt_secret_length_is_counted_in_bytes():
    assert load_settings(production(JWT_SECRET="é" * 16)).jwt_secret == "é" * 16  # 32 bytes


def test_production_with_good_values(tmp_path):
    settings = load_settings(
        production(DB_POOL_SIZE="7", JWT_TTL_SECONDS="600", BCRYPT_ROUNDS="10", DEV_DATA_DIR=str(tmp_path))
    )
    assert settings.production and settings.app_env == "production"
    assert settings.database_url == DB
    assert settings.jwt_secret == GOOD_SECRET
    assert settings.webhook_secret is None
    assert (settings.db_pool_size, settings.jwt_ttl_seconds, settings.bcrypt_rounds) == (7, 600, 10)
    assert settings.admin_email is None
    # Production never generates or stores development secrets.
    assert not (tmp_path / "secrets.json").exists()


def test_production_webhook_secret_when_set():
    assert load_settings(production(WEBHOOK_SECRET="h" * 24)).webhook_secret == "h" * 24


def test_defaults():
    settings = load_settings(production())
    assert settings.jwt_ttl_seconds == 3600
    assert settings.bcrypt_rounds == 12
    assert settings.max_tickets_per_order == 10
    assert settings.order_hold_seconds == 900
    assert settings.max_body_bytes == 64 * 1024


def test_secrets_are_not_in_repr():
    text = repr(
        load_settings(
            production(WEBHOOK_SECRET="hook-secret-value", ADMIN_EMAIL="a@b.co", ADMIN_PASSWORD="pw-value")
        )
    )
    assert GOOD_SECRET not in text and "hook-secret-value" not in text and "pw-value" not in text


def test_development_generates_secrets_once(development, tmp_path):
    first = load_settings(development())
    path = tmp_path / "dev" / "secrets.json"
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())
    assert stored["JWT_SECRET"] == first.jwt_secret
    assert stored["WEBHOOK_SECRET"] == first.webhook_secret
    assert len(first.jwt_secret.encode()) >= 32 and first.webhook_secret
    assert not first.production

    second = load_settings(development())
    assert (second.jwt_secret, second.webhook_secret) == (first.jwt_secret, first.webhook_secret)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_development_secrets_differ_per_checkout(development, tmp_path):
    one = load_settings(development())
    other = load_settings(development(DEV_DATA_DIR=str(tmp_path / "other")))
    assert one.jwt_secret != other.jwt_secret
    assert one.webhook_secret != other.webhook_secret


def test_development_keeps_explicit_secrets(development, tmp_path):
    settings = load_settings(development(JWT_SECRET=GOOD_SECRET))
    assert settings.jwt_secret == GOOD_SECRET
    assert settings.webhook_secret  # generated, since WEBHOOK_SECRET is unset
    both = load_settings(
        development(
            JWT_SECRET=GOOD_SECRET,
            WEBHOOK_SECRET="dev-webhook-secret-value",
            TICKET_SIGNING_KEY=TICKET_SIGNING_KEY,
            DEV_DATA_DIR=str(tmp_path / "x"),
        )
    )
    assert (both.jwt_secret, both.webhook_secret) == (GOOD_SECRET, "dev-webhook-secret-value")
    assert not (tmp_path / "x" / "secrets.json").exists()


def test_production_requires_a_ticket_signing_key():
    with pytest.raises(ConfigError, match="TICKET_SIGNING_KEY"):
        load_settings(production(TICKET_SIGNING_KEY=None))


@pytest.mark.parametrize(
    "key",
    [
        "not base64!",
        base64.b64encode(b"x" * 31).decode(),  # 31 bytes
        base64.b64encode(b"x" * 33).decode(),
        base64.b64encode(b"x" * 64).decode(),  # a whole private key, not its seed
        base64.urlsafe_b64encode(b"\xfb" * 32).decode(),  # base64url, not standard base64
        "CHANGE_ME",
    ],
)
def test_a_malformed_ticket_signing_key_is_refused(key, development):
    for env in (production(TICKET_SIGNING_KEY=key), development(TICKET_SIGNING_KEY=key)):
        with pytest.raises(ConfigError, match="TICKET_SIGNING_KEY"):
            load_settings(env)


def test_ticket_signing_key_is_its_32_byte_seed():
    settings = load_settings(production())
    assert settings.ticket_signing_key == base64.b64decode(TICKET_SIGNING_KEY)
    assert TICKET_SIGNING_KEY not in repr(settings) and "ticket_signing_key" not in repr(settings)


def test_development_generates_a_signing_key_once_and_adds_it_to_older_files(development, tmp_path):
    folder = tmp_path / "dev"
    folder.mkdir()
    older = {"JWT_SECRET": "j" * 40, "WEBHOOK_SECRET": "w" * 20}  # written before codes existed
    (folder / "secrets.json").write_text(json.dumps(older))
    first = load_settings(development())
    stored = json.loads((folder / "secrets.json").read_text())
    assert {k: stored[k] for k in older} == older and (first.jwt_secret, first.webhook_secret) == (
        "j" * 40,
        "w" * 20,
    )
    assert base64.b64decode(stored["TICKET_SIGNING_KEY"]) == first.ticket_signing_key
    assert len(first.ticket_signing_key) == 32
    assert stat.S_IMODE((folder / "secrets.json").stat().st_mode) == 0o600
    assert load_settings(development()).ticket_signing_key == first.ticket_signing_key
    other = load_settings(development(DEV_DATA_DIR=str(tmp_path / "other")))
    assert other.ticket_signing_key != first.ticket_signing_key


def test_development_rejects_a_short_explicit_jwt_secret(development):
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        load_settings(development(JWT_SECRET="short"))


def test_app_env_defaults_to_development(development):
    env = development()
    del env["APP_ENV"]
    assert load_settings(env).app_env == "development"


@pytest.mark.parametrize("value", ["staging", "prod", "Production", ""])
def test_unknown_app_env(value):
    with pytest.raises(ConfigError, match="APP_ENV"):
        load_settings(production(APP_ENV=value))


@pytest.mark.parametrize(
    "name, value",
    [
        ("DB_POOL_SIZE", "abc"),
        ("DB_POOL_SIZE", "0"),
        ("DB_POOL_SIZE", "-1"),
        ("DB_POOL_SIZE", "2.5"),
        ("DB_POOL_SIZE", "10000"),
        ("JWT_TTL_SECONDS", "0"),
        ("BCRYPT_ROUNDS", "3"),
        ("BCRYPT_ROUNDS", "32"),
        ("MAX_TICKETS_PER_ORDER", "many"),
        ("ORDER_HOLD_SECONDS", "0"),
        ("MAX_BODY_BYTES", "10"),
        ("DB_STATEMENT_TIMEOUT_MS", "1"),
    ],
)
def test_bad_integers(name, value):
    with pytest.raises(ConfigError, match=name):
        load_settings(production(**{name: value}))


def test_admin_email_needs_a_password():
    with pytest.raises(ConfigError, match="ADMIN_PASSWORD"):
        load_settings(production(ADMIN_EMAIL="admin@example.com"))


def test_admin_from_env():
    settings = load_settings(production(ADMIN_EMAIL="admin@example.com", ADMIN_PASSWORD="password123"))
    assert (settings.admin_email, settings.admin_password) == ("admin@example.com", "password123")
    assert settings.admin_name == "Administrator"


@pytest.mark.parametrize(
    "extra, mentions",
    [
        ({"TICKET_SIGNING_KEY": TICKET_SIGNING_KEY}, "JWT_SECRET"),
        ({"JWT_SECRET": "short", "TICKET_SIGNING_KEY": TICKET_SIGNING_KEY}, "JWT_SECRET"),
        ({"JWT_SECRET": GOOD_SECRET}, "TICKET_SIGNING_KEY"),
        ({"JWT_SECRET": GOOD_SECRET, "TICKET_SIGNING_KEY": "c2hvcnQ="}, "TICKET_SIGNING_KEY"),
        (
            {
                "JWT_SECRET": GOOD_SECRET,
                "TICKET_SIGNING_KEY": TICKET_SIGNING_KEY,
                "ADMIN_EMAIL": "not-an-email",
                "ADMIN_PASSWORD": "password123",
            },
            "ADMIN_EMAIL",
        ),
        (
            {"JWT_SECRET": GOOD_SECRET, "TICKET_SIGNING_KEY": TICKET_SIGNING_KEY, "METRICS_PORT": "metrics"},
            "METRICS_PORT must be an integer",
        ),
    ],
    ids=[
        "no-jwt-secret",
        "short-jwt-secret",
        "no-signing-key",
        "bad-signing-key",
        "bad-admin-email",
        "bad-metrics-port",
    ],
)
def test_gunicorn_reports_a_config_error_clearly(tmp_path, extra, mentions):
    """A production start with a bad environment exits non-zero with a message, not a traceback."""
    drop = (
        "JWT_SECRET",
        "WEBHOOK_SECRET",
        "TICKET_SIGNING_KEY",
        "ADMIN_EMAIL",
        "ADMIN_PASSWORD",
        "ADMIN_NAME",
    )
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        APP_ENV="production",
        DATABASE_URL=UNREACHABLE_DATABASE_URL,
        PORT=str(free_port()),
        DEV_DATA_DIR=str(tmp_path),
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),  # not /tmp/ticketing-metrics-<port>
        WEB_CONCURRENCY="1",
        **extra,
    )
    try:
        result = subprocess.run(
            GUNICORN_COMMAND, cwd=ROOT, env=env, capture_output=True, text=True, timeout=SERVER_START_TIMEOUT
        )
    except subprocess.TimeoutExpired as exc:  # it started serving instead of refusing to
        pytest.fail(f"gunicorn kept running with a bad configuration: {exc.stderr}")
    assert result.returncode != 0
    assert "configuration error:" in result.stderr
    assert mentions in result.stderr
    assert "Traceback" not in result.stderr


def test_rate_limits_are_on_unless_turned_off():
    assert load_settings(production()).rate_limits is True
    assert load_settings(production(RATE_LIMITS="off")).rate_limits is False
    assert load_settings(production(RATE_LIMITS="ON")).rate_limits is True
    with pytest.raises(ConfigError, match="RATE_LIMITS must be 'on' or 'off'"):
        load_settings(production(RATE_LIMITS="maybe"))


def test_login_throttle_settings():
    settings = load_settings(
        production(LOGIN_FREE_FAILURES="3", LOGIN_FAILURE_WINDOW_SECONDS="60", LOGIN_MAX_DELAY_SECONDS="30")
    )
    assert (settings.login_free_failures, settings.login_failure_window_seconds) == (3, 60)
    assert settings.login_max_delay_seconds == 30
    with pytest.raises(ConfigError, match="LOGIN_FREE_FAILURES"):
        load_settings(production(LOGIN_FREE_FAILURES="0"))


def test_webhook_secret_lists_several_for_rotation():
    settings = load_settings(production(WEBHOOK_SECRET="first-secret-value-1, second-secret-value-2"))
    assert settings.webhook_secrets == ("first-secret-value-1", "second-secret-value-2")


@pytest.mark.parametrize("value", ["long-enough-secret,short", ",", "long-enough-secret, "])
def test_production_checks_every_listed_webhook_secret(value):
    if value == "long-enough-secret, ":
        assert load_settings(production(WEBHOOK_SECRET=value)).webhook_secrets == ("long-enough-secret",)
        return
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET"):
        load_settings(production(WEBHOOK_SECRET=value))


def test_payment_settings_defaults():
    settings = load_settings(production())
    assert settings.webhook_tolerance_seconds == 300
    assert settings.webhook_require_signature is False
    assert settings.default_currency == "BRL"
    assert (settings.webhook_timeout_seconds, settings.webhook_retry_hours) == (5, 24)
    assert settings.webhook_allow_private_targets is False


def test_payment_settings_from_the_environment():
    settings = load_settings(
        production(
            WEBHOOK_REQUIRE_SIGNATURE="true",
            WEBHOOK_TOLERANCE_SECONDS="60",
            DEFAULT_CURRENCY="EUR",
            WEBHOOK_ALLOW_PRIVATE_TARGETS="1",
        )
    )
    assert settings.webhook_require_signature and settings.webhook_allow_private_targets
    assert (settings.webhook_tolerance_seconds, settings.default_currency) == (60, "EUR")


@pytest.mark.parametrize(
    "name, value",
    [
        ("WEBHOOK_REQUIRE_SIGNATURE", "maybe"),
        ("DEFAULT_CURRENCY", "eur"),
        ("DEFAULT_CURRENCY", "EURO"),
        ("WEBHOOK_TOLERANCE_SECONDS", "0"),
        ("WEBHOOK_TIMEOUT_SECONDS", "0"),
    ],
)
def test_bad_payment_settings_stop_the_start(name, value):
    with pytest.raises(ConfigError, match=name):
        load_settings(production(**{name: value}))


WORKER_MODEL_SETTINGS = ("WEB_CONCURRENCY", "GUNICORN_WORKER_CLASS", "GUNICORN_THREADS", "GUNICORN_POOL")


def _worker_model(**env):
    """gunicorn.conf.py's workers, class and threads and the app's DB_POOL_SIZE for `env`."""
    import runpy

    env = {name: "" for name in (*WORKER_MODEL_SETTINGS, "DB_POOL_SIZE")} | env
    saved = dict(os.environ)
    for name in WORKER_MODEL_SETTINGS:
        os.environ.pop(name, None)
    os.environ.update(env)
    try:
        conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    pool_size = load_settings(production(**env)).db_pool_size
    return conf["workers"], conf["worker_class"], conf["threads"], pool_size


def test_the_app_pool_defaults_to_threaded_workers_and_the_auth_pool_to_sync():
    """The measured-better default (docs/performance.md#the-default-worker-model): the app
    pool batches purchases on 2 gthread workers of 16 threads with 4 connections each; the
    auth pool (bcrypt) stays on sync workers; every setting still overrides."""
    assert _worker_model() == (2, "gthread", 16, 4)
    assert _worker_model(GUNICORN_POOL="app") == (2, "gthread", 16, 4)
    assert _worker_model(GUNICORN_POOL="auth", WEB_CONCURRENCY="1") == (1, "sync", 1, 2)
    sync = {"WEB_CONCURRENCY": "4", "GUNICORN_WORKER_CLASS": "sync", "GUNICORN_THREADS": "1"}
    assert _worker_model(**sync) == (4, "sync", 1, 2)
    assert _worker_model(GUNICORN_THREADS="8", DB_POOL_SIZE="6") == (2, "gthread", 8, 6)
    assert _worker_model(GUNICORN_POOL="auth", GUNICORN_THREADS="4")[2:] == (4, 4)
