"""Operator commands: `flask create-admin` and the ADMIN_* bootstrap at start."""

import os
import subprocess

import bcrypt
import pytest

from tests.support import ROOT
from tests.support.api import login
from tests.support.samples import JWT_SECRET
from tests.support.servers import GUNICORN_COMMAND, free_port
from tests.support.timeouts import SERVER_START_TIMEOUT
from ticketing.commands import bootstrap_admin_from_env
from ticketing.config import ConfigError


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args, **kwargs):
        return runner.invoke(args=["create-admin", *args], **kwargs)

    return invoke


def _rows(sql, email):
    return sql.all(
        "SELECT id::text, name, email, role, password_hash FROM users WHERE lower(email) = lower(%s)",
        (email,),
    )


def test_create_admin(cli, sql, client):
    result = cli("--email", "root@example.com", "--name", "Root", "--password", "admin-password-1")
    assert result.exit_code == 0, result.output
    assert "Created admin root@example.com" in result.output
    (row,) = _rows(sql, "root@example.com")
    assert row["role"] == "admin" and row["name"] == "Root"
    assert row["id"] in result.output
    assert "admin-password-1" not in row["password_hash"]
    logged_in = login(client, "root@example.com", "admin-password-1")
    assert logged_in.status_code == 200
    # The token really carries the admin role: it can publish an event.
    headers = {"Authorization": f"Bearer {logged_in.json['token']}"}
    assert client.get("/api/v1/me", headers=headers).json["role"] == "admin"


def test_create_admin_prompts_for_the_password(cli, sql, client):
    result = cli("--email", "prompted@example.com", input="prompted-pass\nprompted-pass\n")
    assert result.exit_code == 0, result.output
    assert "prompted-pass" not in result.output  # hidden input is not echoed
    (row,) = _rows(sql, "prompted@example.com")
    assert row["role"] == "admin" and row["name"] == "Administrator"
    assert login(client, "prompted@example.com", "prompted-pass").status_code == 200


def test_create_admin_twice_is_harmless(cli, sql, client):
    assert cli("--email", "root@example.com", "--password", "admin-password-1").exit_code == 0
    (first,) = _rows(sql, "root@example.com")
    again = cli("--email", "ROOT@example.com", "--password", "another-password")
    assert again.exit_code == 0, again.output
    assert "already an admin; nothing changed" in again.output
    (row,) = _rows(sql, "root@example.com")
    assert row == first
    assert login(client, "root@example.com", "admin-password-1").status_code == 200
    assert login(client, "root@example.com", "another-password").status_code == 401


def test_create_admin_never_promotes_an_existing_user_silently(cli, sql, users):
    user = users.create(name="Maria", email="maria@example.com", password="her-own-password")
    result = cli("--email", "MARIA@example.com", "--password", "something-else-1")
    assert result.exit_code == 1
    assert "maria@example.com is an existing account with the role 'user'" in result.output
    assert "--promote-existing" in result.output and "Traceback" not in result.output
    (row,) = _rows(sql, "maria@example.com")
    assert row["id"] == user["id"] and row["role"] == "user"


def test_create_admin_promote_existing_promotes_and_keeps_the_password(cli, sql, users, client):
    user = users.create(name="Maria", email="maria@example.com", password="her-own-password")
    result = cli("--email", "maria@example.com", "--promote-existing")  # no password asked
    assert result.exit_code == 0, result.output
    assert f"Promoted maria@example.com ({user['id']}) to admin" in result.output
    (row,) = _rows(sql, "maria@example.com")
    assert row["id"] == user["id"] and row["role"] == "admin" and row["name"] == "Maria"
    assert bcrypt.checkpw(b"her-own-password", row["password_hash"].encode())
    logged_in = login(client, "maria@example.com", "her-own-password")
    assert logged_in.status_code == 200
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {logged_in.json['token']}"}).json["role"]
        == "admin"
    )
    again = cli("--email", "maria@example.com", "--promote-existing")
    assert again.exit_code == 0 and "already an admin" in again.output


def test_create_admin_promote_existing_needs_an_account(cli, sql):
    result = cli("--email", "ghost@example.com", "--promote-existing")
    assert result.exit_code == 1 and "no account has the email ghost@example.com" in result.output
    assert sql.value("SELECT count(*) FROM users") == 0


@pytest.mark.parametrize(
    "args, field",
    [
        (("--email", "not-an-email", "--password", "admin-password-1"), "email"),
        (("--email", "ok@example.com", "--password", "short"), "password"),
        (("--email", "ok@example.com", "--name", "", "--password", "admin-password-1"), "name"),
    ],
)
def test_create_admin_rejects_invalid_input(cli, sql, args, field):
    result = cli(*args)
    assert result.exit_code != 0
    assert field in result.output
    assert "Traceback" not in result.output
    assert sql.value("SELECT count(*) FROM users") == 0


def test_create_admin_requires_an_email(cli, sql):
    result = cli("--password", "admin-password-1")
    assert result.exit_code != 0 and "--email" in result.output
    assert sql.value("SELECT count(*) FROM users") == 0


def test_bootstrap_admin_from_env_is_idempotent(make_app, sql, capsys):
    app = make_app(admin_email="boot@example.com", admin_password="boot-password-1", admin_name="Boot")
    bootstrap_admin_from_env(app)
    bootstrap_admin_from_env(app)
    rows = _rows(sql, "boot@example.com")
    assert len(rows) == 1
    assert rows[0]["role"] == "admin" and rows[0]["name"] == "Boot"
    assert bcrypt.checkpw(b"boot-password-1", rows[0]["password_hash"].encode())
    err = capsys.readouterr().err
    assert "admin boot@example.com created" in err and "admin boot@example.com ensured" in err
    logged_in = login(app.test_client(), "boot@example.com", "boot-password-1")
    assert logged_in.status_code == 200


def test_bootstrap_refuses_to_promote_an_existing_account(make_app, sql, users):
    user = users.create(email="boot@example.com", password="original-password")
    app = make_app(admin_email="Boot@example.com", admin_password="boot-password-1")
    with pytest.raises(ConfigError) as refused:
        bootstrap_admin_from_env(app)
    message = str(refused.value)
    assert "boot@example.com is an existing account with the role 'user'" in message
    assert "create-admin --email Boot@example.com --promote-existing" in message
    (row,) = _rows(sql, "boot@example.com")
    assert row["id"] == user["id"] and row["role"] == "user"
    assert bcrypt.checkpw(b"original-password", row["password_hash"].encode())


def test_bootstrap_accepts_an_existing_admin(make_app, sql, users, capsys):
    users.create(email="boot@example.com", password="original-password", role="admin")
    bootstrap_admin_from_env(make_app(admin_email="boot@example.com", admin_password="boot-password-1"))
    assert "admin boot@example.com ensured" in capsys.readouterr().err
    (row,) = _rows(sql, "boot@example.com")
    assert bcrypt.checkpw(b"original-password", row["password_hash"].encode())  # never overwritten


def test_gunicorn_refuses_to_start_when_admin_email_is_a_user(database_url, tmp_path, users, sql):
    users.create(email="squatter@example.com", password="squatter-password")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JWT_SECRET": JWT_SECRET,
        "ADMIN_EMAIL": "squatter@example.com",
        "ADMIN_PASSWORD": "operator-password",
        "PORT": str(free_port()),
        "DEV_DATA_DIR": str(tmp_path),
        "WEB_CONCURRENCY": "1",
    }
    result = subprocess.run(
        GUNICORN_COMMAND, cwd=ROOT, env=env, capture_output=True, text=True, timeout=SERVER_START_TIMEOUT
    )
    assert result.returncode != 0
    assert "configuration error: ADMIN_EMAIL: squatter@example.com is an existing account" in result.stderr
    assert "--promote-existing" in result.stderr and "Traceback" not in result.stderr
    assert sql.value("SELECT role FROM users WHERE email = 'squatter@example.com'") == "user"


def test_bootstrap_without_admin_settings_does_nothing(make_app, sql):
    bootstrap_admin_from_env(make_app())
    assert sql.value("SELECT count(*) FROM users") == 0


@pytest.mark.parametrize(
    "changes, variable",
    [
        ({"admin_email": "not-an-email", "admin_password": "boot-password-1"}, "ADMIN_EMAIL"),
        ({"admin_email": "boot@example.com", "admin_password": "short"}, "ADMIN_PASSWORD"),
    ],
)
def test_bootstrap_with_invalid_admin_settings_is_a_config_error(make_app, sql, changes, variable):
    with pytest.raises(ConfigError, match=variable):
        bootstrap_admin_from_env(make_app(**changes))
    assert sql.value("SELECT count(*) FROM users") == 0
