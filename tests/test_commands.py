"""Operator commands: `flask create-admin` and the ADMIN_* bootstrap at start."""

import bcrypt
import pytest

from tests.support.api import login
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
    assert "existing password was kept" in again.output
    (row,) = _rows(sql, "root@example.com")
    assert row == first
    assert login(client, "root@example.com", "admin-password-1").status_code == 200
    assert login(client, "root@example.com", "another-password").status_code == 401


def test_create_admin_promotes_an_existing_user(cli, sql, users, client):
    user = users.create(name="Maria", email="maria@example.com", password="her-own-password")
    result = cli("--email", "maria@example.com", "--password", "something-else-1")
    assert result.exit_code == 0, result.output
    (row,) = _rows(sql, "maria@example.com")
    assert row["id"] == user["id"] and row["role"] == "admin" and row["name"] == "Maria"
    assert bcrypt.checkpw(b"her-own-password", row["password_hash"].encode())
    logged_in = login(client, "maria@example.com", "her-own-password")
    assert logged_in.status_code == 200
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {logged_in.json['token']}"}).json["role"]
        == "admin"
    )


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


def test_bootstrap_admin_promotes_and_keeps_the_password(make_app, sql, users):
    user = users.create(email="boot@example.com", password="original-password")
    app = make_app(admin_email="boot@example.com", admin_password="boot-password-1")
    bootstrap_admin_from_env(app)
    (row,) = _rows(sql, "boot@example.com")
    assert row["id"] == user["id"] and row["role"] == "admin"
    assert bcrypt.checkpw(b"original-password", row["password_hash"].encode())


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
