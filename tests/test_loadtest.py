"""The load-tester kit: prepare through the API, then a headless locust run against the
front door (`python -m ticketing.frontdoor`, what `make run` runs: nginx and both gunicorn
pools), once for a plain event and once through the waiting room, and verify against the
database; a short wrk run against gunicorn; verify's own checks; k6.js at least parses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections import Counter

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


ADMIN_PASSWORD = "admin-password-1"

# The front door limits signups and logins per client address; a load test's prepare
# comes from one address, so the test raises those two limits (docs/load-testing.md).
# The per-user limit of POST /orders stays at its default: the tools honour its 429s.
ONE_ADDRESS_LIMITS = {
    "RATE_LIMIT_SIGNUP_PER_MINUTE": "6000",
    "RATE_LIMIT_SIGNUP_BURST": "100",
    "RATE_LIMIT_LOGIN_PER_MINUTE": "6000",
    "RATE_LIMIT_LOGIN_BURST": "100",
}


def prepare_run(cli, users, tmp_path, base_url, *options):
    """`loadtest prepare` against base_url as a fresh admin; the run file's path."""
    admin = users.create(role="admin", email=f"admin-{uuid.uuid4().hex}@example.com", password=ADMIN_PASSWORD)
    run_path = tmp_path / "run.json"
    command = ["prepare", "--base-url", base_url, "--out", str(run_path)]
    command += ["--admin-email", admin["email"], "--admin-password", ADMIN_PASSWORD, *options]
    result = cli(*command)
    assert result.exit_code == 0, result.output
    return run_path


def run_locust(run_path, tmp_path, buyers: int) -> tuple[str, dict]:
    """A headless locust run of LOCUST_SECONDS with `buyers` users: (output, report)."""
    report_path = tmp_path / "report.json"
    env = {**os.environ, "LOADTEST_RUN": str(run_path), "LOADTEST_REPORT": str(report_path)}
    command = [sys.executable, "-m", "locust", "-f", str(ROOT / "loadtest" / "locustfile.py")]
    command += ["--headless", "-u", str(buyers), "-r", str(buyers), "-t", f"{LOCUST_SECONDS}s"]
    command += ["--only-summary", "--loglevel", "WARNING"]
    done = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=TOOL_TIMEOUT
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    return output, json.loads(report_path.read_text())


@pytest.fixture
def prepared(gunicorn, users, cli, tmp_path):
    """A gunicorn, an admin, and run.json for 20 buyers of a 30-ticket event."""
    server = gunicorn()
    run_path = prepare_run(
        cli, users, tmp_path, server.url, "--users", "20", "--capacity", "30", "--max-per-order", "4"
    )
    return server, run_path


def test_prepare_writes_everything_a_tool_needs(prepared, sql):
    server, run_path = prepared
    run = json.loads(run_path.read_text())
    assert run["base_url"] == server.url
    assert run["event"]["capacity"] == 30 and run["event"]["max_per_order"] == 4
    assert run["event"]["queue"] is None  # no waiting room: the tools buy directly
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
    assert queue.exit_code == 1  # an incomplete waiting room: the event body is refused
    text = queue.output
    assert "creating the event: HTTP 422" in text and "queue" in text


def test_locust_through_the_front_door_then_verify_passes_and_catches_a_ticket_sold_behind_the_apis_back(
    front_door, users, cli, sql, tmp_path
):
    server = front_door(**ONE_ADDRESS_LIMITS)
    run_path = prepare_run(
        cli,
        users,
        tmp_path,
        server.url,
        "--users",
        "20",
        "--capacity",
        "30",
        "--max-per-order",
        "4",
        "--concurrency",
        "4",
    )
    output, report = run_locust(run_path, tmp_path, buyers=8)
    assert "statuses of POST /api/v1/orders" in output
    assert set(report) == {"POST /api/v1/orders"}  # no waiting room: no join, no poll
    purchases = report["POST /api/v1/orders"]
    # 429: the per-user limit of POST /orders at the front door, honoured and retried
    assert set(purchases["statuses"]) <= {"201", "409", "429", "503"}, report
    assert purchases["failures"] == 0 and purchases["latency_ms"]["p50"] > 0

    run = json.loads(run_path.read_text())
    recorded = (run_path.parent / run["orders_file"]).read_text().split()
    event_id = run["event"]["id"]
    sold = sql.value("SELECT capacity - remaining FROM events WHERE id = %s", (event_id,))
    assert sold == 30  # 8 buyers for 10 s sell out 30 tickets
    assert (
        len(recorded)
        == purchases["statuses"]["201"]
        == sql.value("SELECT count(*) FROM orders WHERE event_id = %s", (event_id,))
    )
    # every request went through nginx to the app pool
    assert sum(1 for line in server.access_log() if line.get("uri", "").endswith("/orders")) >= len(recorded)

    ok = cli("verify", "--run", str(run_path))
    assert ok.exit_code == 0, ok.output
    assert "OK: every invariant holds" in ok.output
    assert f"201s recorded by the load tool: {len(recorded)}" in ok.output
    assert "waiting room" not in ok.output

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


def test_locust_through_the_waiting_room_of_the_front_door_then_verify(front_door, users, cli, sql, tmp_path):
    # Admission on (every 200 ms in each worker): this test's own server, stopped by the
    # front_door fixture when the test ends, before the next test empties the tables.
    server = front_door(QUEUE_ADMIT_MS="200", **ONE_ADDRESS_LIMITS)
    queue = json.dumps({"admit_per_minute": 1200, "pass_seconds": 60})
    run_path = prepare_run(
        cli,
        users,
        tmp_path,
        server.url,
        "--users",
        "20",
        "--capacity",
        "20",
        "--queue",
        queue,
        "--concurrency",
        "4",
    )
    run = json.loads(run_path.read_text())
    assert run["event"]["queue"] == {"admit_per_minute": 1200, "pass_seconds": 60}
    event_id = run["event"]["id"]

    output, report = run_locust(run_path, tmp_path, buyers=20)
    join, poll, purchase = (
        report["POST /api/v1/events/{event_id}/queue"],
        report["GET /api/v1/events/{event_id}/queue"],
        report["POST /api/v1/orders"],
    )
    for route in (join, poll, purchase):
        assert route["failures"] == 0, report
        assert route["latency_ms"]["p50"] > 0
    assert "statuses of POST /api/v1/events/{event_id}/queue" in output
    assert "statuses of GET /api/v1/events/{event_id}/queue" in output
    assert set(join["statuses"]) <= {"200", "201", "429", "503"}, report
    # 20 buyers join; after buying, each joins again (and may buy again, or meet the sold-out room)
    assert join["statuses"]["201"] >= 20
    assert set(poll["statuses"]) <= {"200", "429", "503"} and poll["statuses"]["200"] > 0
    assert set(purchase["statuses"]) <= {"201", "409", "429", "503"}, report
    assert report["waiting room: join to pass"]["passes"] == purchase["statuses"]["201"] == 20

    # Every order was bought with its buyer's pass, and nobody polled faster than asked:
    # waiting entries answer Retry-After >= 1, so a buyer polls at most ~once a second.
    assert sql.value("SELECT capacity - remaining FROM events WHERE id = %s", (event_id,)) == 20
    assert (
        sql.value(
            "SELECT count(*) FROM queue_entries WHERE event_id = %s AND status = 'purchased'", (event_id,)
        )
        == 20
    )
    assert poll["requests"] <= 20 * (LOCUST_SECONDS + 1)

    ok = cli("verify", "--run", str(run_path))
    assert ok.exit_code == 0, ok.output
    assert "waiting room: " in ok.output and "orders since it opened 20, passes used 20" in ok.output

    # An order behind the waiting room's back (no pass used), its books kept balanced
    # (one more ticket of capacity): only the waiting room's check can see it.
    first, second = (
        str(row["user_id"])
        for row in sql.all(
            "SELECT DISTINCT user_id FROM orders WHERE event_id = %s ORDER BY user_id LIMIT 2", (event_id,)
        )
    )
    sql.all("UPDATE events SET capacity = capacity + 1 WHERE id = %s", (event_id,))
    sql.all("UPDATE ticket_types SET capacity = capacity + 1 WHERE event_id = %s", (event_id,))
    order_id = sql.value(
        "INSERT INTO orders (user_id, event_id, ticket_type_id, quantity, unit_price, total_amount,"
        "                    expires_at, currency)"
        " SELECT user_id, event_id, ticket_type_id, 1, unit_price, unit_price, expires_at, currency"
        "   FROM orders WHERE event_id = %s AND user_id = %s LIMIT 1 RETURNING id",
        (event_id, first),  # (a buyer may have bought twice: joined again after buying)
    )
    sql.all(
        "INSERT INTO tickets (order_id, event_id, ticket_type_id, price)"
        " SELECT id, event_id, ticket_type_id, unit_price FROM orders WHERE id = %s",
        (order_id,),
    )
    # and a pass marked used that bought nothing
    sql.all(
        "INSERT INTO queue_entries (event_id, user_id, place, status, admitted_at, pass,"
        "                           pass_expires_at, purchased_at)"
        " VALUES (%s, %s, 1e9, 'purchased', now(), md5(random()::text), now() + interval '1 minute', now())",
        (event_id, second),
    )
    bad = cli("verify", "--run", str(run_path))
    assert bad.exit_code == 1
    text = bad.output
    assert "FAILED: 2 violations" in text
    assert f"1 buyers have more orders than used passes (an order without a pass): {first}" in text
    assert (
        f"1 buyers have more used passes than orders (a pass marked purchased without its order): {second}"
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


K6_NODE = ROOT / "tests" / "support" / "k6node"
K6_SECONDS = 8


def run_k6_under_node(run_path, tmp_path, vus: int) -> tuple[list[str], list[dict]]:
    """loadtest/k6.js run by node (k6 cannot be installed here): `vus` processes, each one
    VU (tests/support/k6node/run.mjs) for K6_SECONDS, with LOADTEST_LOG_ORDERS=1. Returns
    the order ids it logged and every metric sample."""
    script = (ROOT / "loadtest" / "k6.js").read_text()
    for module, stand_in in (("k6/http", "http"), ("k6/execution", "execution"), ("k6/metrics", "metrics")):
        script = script.replace(f"from '{module}';", f"from '{K6_NODE / stand_in}.mjs';")
    script = script.replace("from 'k6';", f"from '{K6_NODE / 'k6'}.mjs';")
    assert "'k6" not in script  # every k6 module has its stand-in
    copy = tmp_path / "k6-under-node.mjs"
    copy.write_text(script)
    env = {**os.environ, "LOADTEST_RUN": str(run_path), "LOADTEST_LOG_ORDERS": "1"}
    processes = [
        subprocess.Popen(
            ["node", str(K6_NODE / "run.mjs"), str(copy), str(vu), str(K6_SECONDS)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for vu in range(1, vus + 1)
    ]
    orders, samples = [], []
    for process in processes:
        out, err = process.communicate(timeout=TOOL_TIMEOUT)
        assert process.returncode == 0, err[-3000:]
        for line in out.splitlines():
            if line.startswith("ORDER "):
                orders.append(line.split()[1])
            elif line.startswith("METRICS "):
                samples += json.loads(line[len("METRICS ") :])["samples"]
    return orders, samples


def counts(samples, metric: str, **tags) -> Counter:
    """Statuses of `metric`'s samples whose tags include `tags`."""
    return Counter(
        s["tags"]["status"]
        for s in samples
        if s["metric"] == metric and all(s["tags"].get(k) == v for k, v in tags.items())
    )


@pytest.mark.skipif(None in (shutil.which("node"), shutil.which("curl")), reason="needs node and curl")
def test_k6_script_buys_through_the_waiting_room_when_node_runs_it(gunicorn, users, cli, sql, tmp_path):
    """k6.js's own logic, run by node with stand-ins for k6's modules, against gunicorn
    whose workers admit: 4 VUs (4 buyers) join, poll, buy with their passes and join
    again until the 10 tickets are gone; then the plain flow on an event without a room."""
    server = gunicorn()  # admission on (QUEUE_ADMIT_MS default); stopped when the test ends
    queue = json.dumps({"admit_per_minute": 600, "pass_seconds": 60})
    run_path = prepare_run(
        cli, users, tmp_path, server.url, "--users", "4", "--capacity", "10", "--queue", queue
    )
    event_id = json.loads(run_path.read_text())["event"]["id"]
    orders, samples = run_k6_under_node(run_path, tmp_path, vus=4)

    assert len(orders) == len(set(orders)) == 10
    assert sql.value("SELECT capacity - remaining FROM events WHERE id = %s", (event_id,)) == 10
    joins, polls = counts(samples, "statuses", step="join"), counts(samples, "statuses", step="poll")
    purchases = counts(samples, "statuses", step="purchase")
    assert joins["201"] >= 10 and set(joins) <= {"200", "201", "429", "503"}, joins
    assert polls["200"] > 0 and set(polls) <= {"200", "429", "503"}, polls
    assert purchases["201"] == 10 and set(purchases) <= {"201", "409", "429", "503"}, purchases
    assert len([s for s in samples if s["metric"] == "queue_wait"]) == 10  # join to pass
    # requests carry the route template as `name` and every pass went out as Queue-Pass
    names = {s["tags"]["name"] for s in samples if s["metric"] == "http_reqs"}
    assert names == {
        "POST /api/v1/events/{event_id}/queue",
        "GET /api/v1/events/{event_id}/queue",
        "POST /api/v1/orders",
    }
    (run_path.parent / "run.orders").write_text("\n".join(orders) + "\n")
    ok = cli("verify", "--run", str(run_path))
    assert ok.exit_code == 0, ok.output
    assert "orders since it opened 10, passes used 10" in ok.output

    # Without a waiting room: straight to POST /orders, until sold out (each VU stops).
    plain_dir = tmp_path / "plain"
    plain_dir.mkdir()
    plain = prepare_run(cli, users, plain_dir, server.url, "--users", "4", "--capacity", "12")
    orders, samples = run_k6_under_node(plain, plain_dir, vus=4)
    assert len(orders) == 12
    assert counts(samples, "statuses", step="join") == Counter()
    assert counts(samples, "statuses", step="purchase")["201"] == 12
    (plain_dir / "run.orders").write_text("\n".join(orders) + "\n")
    assert cli("verify", "--run", str(plain)).exit_code == 0


def test_k6_script_mirrors_the_locustfile():
    """k6 cannot run here, so k6.js stays the locustfile's logic with the same names: the
    same routes, expected statuses, retried statuses, entry statuses and steps."""
    import ast
    import re

    locust = (ROOT / "loadtest" / "locustfile.py").read_text()
    k6 = (ROOT / "loadtest" / "k6.js").read_text()
    constants = {
        target.id: node.value
        for node in ast.parse(locust).body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    for name in ("JOIN", "POLL", "PURCHASE"):
        route = ast.literal_eval(constants[name])
        assert f"const {name} = '{route}';" in k6
    expected = {
        key.id: sorted(ast.literal_eval(value))
        for key, value in zip(constants["EXPECTED"].keys, constants["EXPECTED"].values, strict=True)
    }
    for name, statuses in expected.items():
        assert f"[{name}]: [{', '.join(map(str, statuses))}]" in k6
    retryable = sorted(ast.literal_eval(constants["RETRYABLE"]))
    assert f"const RETRYABLE = [{', '.join(map(str, retryable))}];" in k6
    # the same entry statuses are acted on, in the same order, by both
    pattern = r"""\[["']status["']\] (?:==|!=) ["'](\w+)["']|\.status (?:===|!==) '(\w+)'"""
    in_locust = [a or b for a, b in re.findall(pattern, locust)]
    in_k6 = [a or b for a, b in re.findall(pattern, k6)]
    assert in_locust == in_k6 == ["admitted", "sold_out", "waiting"]
    # the same steps, each pointing at its twin
    for python, javascript in (("call", "call"), ("wait_for_pass", "waitForPass"), ("journey", "journey")):
        assert f"def {python}(" in locust
        assert f"function {javascript}(" in k6 and f"(locustfile.py: {python})" in k6
    assert "constant-arrival-rate" in k6
    assert locust.count("raise StopUser()") == k6.count("throw new StopUser();") == 3
    assert locust.count("gevent.sleep(wait)") == k6.count("sleep(wait);") == 2
    assert '"Queue-Pass"' in locust and "'Queue-Pass'" in k6
