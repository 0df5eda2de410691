"""The load-tester kit: prepare through the API, a headless locust run and a short wrk run
against a real gunicorn, then verify against the database; k6.js at least parses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid

import pytest

from tests.support import ROOT

LOCUST_SECONDS = 10
TOOL_TIMEOUT = 120  # a tool run of a few seconds, on a loaded machine


@pytest.fixture
def cli(app):
    """`flask loadtest ...` in-process; the result's output holds stdout and stderr."""
    runner = app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=["loadtest", *args], catch_exceptions=False)

    return invoke


@pytest.fixture
def prepared(gunicorn, users, cli, tmp_path):
    """A gunicorn, an admin, and run.json for 20 buyers of a 30-ticket event."""
    server = gunicorn()
    admin = users.create(
        role="admin", email=f"admin-{uuid.uuid4().hex}@example.com", password="admin-password-1"
    )
    run_path = tmp_path / "run.json"
    result = cli(
        "prepare",
        "--base-url",
        server.url,
        "--users",
        "20",
        "--capacity",
        "30",
        "--max-per-order",
        "4",
        "--out",
        str(run_path),
        "--admin-email",
        admin["email"],
        "--admin-password",
        "admin-password-1",
    )
    assert result.exit_code == 0, result.output
    return server, run_path


def test_prepare_writes_everything_a_tool_needs(prepared, sql):
    server, run_path = prepared
    run = json.loads(run_path.read_text())
    assert run["base_url"] == server.url
    assert run["event"]["capacity"] == 30 and run["event"]["max_per_order"] == 4
    assert len(run["users"]) == 20 and len({u["token"] for u in run["users"]}) == 20
    assert (run_path.parent / run["orders_file"]).read_text() == ""
    assert oct(run_path.stat().st_mode & 0o777) == "0o600"  # tokens and a password
    # real accounts, made through the API, whose tokens work
    emails = [u["email"] for u in run["users"]]
    assert sql.value("SELECT count(*) FROM users WHERE email = ANY(%s)", (emails,)) == 20
    me = server.get("/api/v1/me", headers={"Authorization": f"Bearer {run['users'][3]['token']}"})
    assert me.status_code == 200 and me.json()["email"] == emails[3]


def test_prepare_runs_without_the_apps_settings(gunicorn, users, tmp_path):
    """`python -m ticketing.loadtest prepare`: only HTTP, no DATABASE_URL, no secrets."""
    server = gunicorn()
    admin = users.create(role="admin", password="admin-password-1")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "JWT_SECRET", "WEBHOOK_SECRET")}
    env["DEV_DATA_DIR"] = str(tmp_path / "untouched")
    command = [sys.executable, "-m", "ticketing.loadtest", "prepare", "--base-url", server.url]
    command += ["--users", "2", "--capacity", "5", "--out", str(tmp_path / "run.json")]
    command += ["--admin-email", admin["email"], "--admin-password", "admin-password-1"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TOOL_TIMEOUT)
    assert done.returncode == 0, done.stderr
    assert len(json.loads((tmp_path / "run.json").read_text())["users"]) == 2
    assert not (tmp_path / "untouched").exists()  # no settings loaded, no embedded database


def test_prepare_explains_what_the_api_refused(gunicorn, users, cli, tmp_path):
    server = gunicorn()
    admin = users.create(role="admin", password="admin-password-1")
    base = [
        "prepare",
        "--base-url",
        server.url,
        "--users",
        "1",
        "--capacity",
        "5",
        "--out",
        str(tmp_path / "r.json"),
    ]
    wrong = cli(*base, "--admin-email", admin["email"], "--admin-password", "nope")
    assert wrong.exit_code == 1
    assert "admin login" in wrong.output
    queue = cli(
        *base, "--admin-email", admin["email"], "--admin-password", "admin-password-1", "--queue", "{}"
    )
    assert queue.exit_code == 1  # this server has no waiting room: the event body is refused
    text = queue.output
    assert "creating the event: HTTP 422" in text and "queue" in text


def test_locust_run_then_verify_passes_and_catches_a_ticket_sold_behind_the_apis_back(
    prepared, cli, sql, tmp_path
):
    server, run_path = prepared
    report_path = tmp_path / "report.json"
    env = {**os.environ, "LOADTEST_RUN": str(run_path), "LOADTEST_REPORT": str(report_path)}
    command = [sys.executable, "-m", "locust", "-f", str(ROOT / "loadtest" / "locustfile.py")]
    command += [
        "--headless",
        "-u",
        "8",
        "-r",
        "8",
        "-t",
        f"{LOCUST_SECONDS}s",
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    done = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=TOOL_TIMEOUT
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "statuses of POST /orders" in done.stdout + done.stderr
    report = json.loads(report_path.read_text())
    assert set(report["statuses"]) <= {"201", "409"}, report
    assert report["failures"] == 0

    run = json.loads(run_path.read_text())
    recorded = (run_path.parent / run["orders_file"]).read_text().split()
    event_id = run["event"]["id"]
    sold = sql.value("SELECT capacity - remaining FROM events WHERE id = %s", (event_id,))
    assert sold == 30  # 8 buyers for 10 s sell out 30 tickets
    assert (
        len(recorded)
        == report["statuses"]["201"]
        == sql.value("SELECT count(*) FROM orders WHERE event_id = %s", (event_id,))
    )

    ok = cli("verify", "--run", str(run_path))
    assert ok.exit_code == 0, ok.output
    assert "OK: every invariant holds" in ok.output
    assert f"201s recorded by the load tool: {len(recorded)}" in ok.output

    # A ticket inserted behind the API's back: the books no longer balance.
    sql.all(
        "INSERT INTO tickets (order_id, event_id, ticket_type_id, price)"
        " SELECT id, event_id, ticket_type_id, unit_price FROM orders"
        " WHERE event_id = %s AND status = 'PENDING' LIMIT 1",
        (event_id,),
    )
    bad = cli("verify", "--run", str(run_path))
    assert bad.exit_code == 1
    text = bad.output
    assert "FAILED" in text
    assert "PENDING/PAID orders hold 30 tickets, but 31 ticket rows are live" in text
    assert "live tickets for a capacity of 30" in text
    assert (
        "ticket type 'General': capacity - remaining = 30, PENDING/PAID orders hold 30, 31 ticket rows"
        in text
    )


def test_verify_catches_a_buyer_over_max_per_user(prepared, cli, sql):
    server, run_path = prepared
    run = json.loads(run_path.read_text())
    event_id, buyer = run["event"]["id"], run["users"][0]
    sql.all("UPDATE events SET max_per_user = 2 WHERE id = %s", (event_id,))
    bought = server.post(
        "/api/v1/orders",
        json={"event_id": event_id, "quantity": 2},
        headers={"Authorization": f"Bearer {buyer['token']}"},
    )
    assert bought.status_code == 201
    assert cli("verify", "--run", str(run_path)).exit_code == 0  # at the limit, not over it
    # one more order for the same buyer, behind the API's back (its books kept balanced)
    order_id = sql.value(
        "INSERT INTO orders (user_id, event_id, ticket_type_id, quantity, unit_price, total_amount,"
        "                    expires_at, currency)"
        " SELECT user_id, event_id, ticket_type_id, 1, unit_price, unit_price, expires_at, currency"
        "   FROM orders WHERE id = %s RETURNING id",
        (bought.json()["id"],),
    )
    sql.all(
        "INSERT INTO tickets (order_id, event_id, ticket_type_id, price)"
        " SELECT id, event_id, ticket_type_id, unit_price FROM orders WHERE id = %s",
        (order_id,),
    )
    sql.all("UPDATE events SET remaining = remaining - 1 WHERE id = %s", (event_id,))
    sql.all("UPDATE ticket_types SET remaining = remaining - 1 WHERE event_id = %s", (event_id,))
    bad = cli("verify", "--run", str(run_path))
    assert bad.exit_code == 1
    assert "1 buyers hold more than max_per_user (2) tickets in PENDING and PAID orders" in bad.output


def test_verify_fails_when_a_recorded_201_does_not_exist(prepared, cli):
    _server, run_path = prepared
    run = json.loads(run_path.read_text())
    ghost = str(uuid.uuid4())
    (run_path.parent / run["orders_file"]).write_text(ghost + "\nnot-an-id\n")
    bad = cli("verify", "--run", str(run_path))
    assert bad.exit_code == 1
    text = bad.output
    assert f"1 orders answered 201 are not orders of this event: {ghost}" in text
    assert "recorded order id is not a UUID: 'not-an-id'" in text


def test_wrk_script_runs_briefly_and_records_its_orders(prepared, cli):
    from bench.wrk import ensure_installed

    wrk = ensure_installed()
    server, run_path = prepared
    env = {**os.environ, "LOADTEST_RUN": str(run_path)}
    command = [wrk, "-t2", "-c4", "-d2s", "--latency", "-s", str(ROOT / "loadtest" / "wrk.lua"), server.url]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=TOOL_TIMEOUT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "statuses of POST /orders" in done.stdout
    assert "  201: " in done.stdout and "  409: " in done.stdout  # 30 tickets sell out in 2 s
    run = json.loads(run_path.read_text())
    recorded = (run_path.parent / run["orders_file"]).read_text().split()
    assert len(recorded) == int(done.stdout.split("  201: ")[1].split()[0])
    ok = cli("verify", "--run", str(run_path))
    assert ok.exit_code == 0, ok.output


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_k6_script_parses_as_an_es_module(tmp_path):
    # node --check does not reject a broken .js ES module; it does check a .mjs one.
    copy = tmp_path / "k6.mjs"
    shutil.copy(ROOT / "loadtest" / "k6.js", copy)
    done = subprocess.run(
        ["node", "--check", str(copy)], capture_output=True, text=True, timeout=TOOL_TIMEOUT
    )
    assert done.returncode == 0, done.stderr
    broken = tmp_path / "broken.mjs"
    broken.write_text(copy.read_text().replace("export default function () {", "export default function ( {"))
    assert (
        subprocess.run(["node", "--check", str(broken)], capture_output=True, timeout=TOOL_TIMEOUT).returncode
        != 0
    )
