"""The front door (issue 9, part 1): nginx in front of gunicorn, as `make run` serves it,
with the repository's nginx configuration (deploy/nginx/)."""

from __future__ import annotations

import asyncio
import io
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.support import ROOT
from tests.support.frontdoor import (
    Connection,
    app_masters,
    group_processes,
    remove,
    short_folder,
    start_front_door,
)
from tests.support.servers import free_port
from tests.support.timeouts import REQUEST_TIMEOUT, SERVER_STOP_TIMEOUT, wait_until
from ticketing import frontdoor

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def door(database_url, nginx):
    """One front door with the default settings for the tests that only read from it."""
    server = start_front_door(database_url)
    yield server
    remove(server)


def test_serves_through_nginx_and_keeps_connections_alive(door):
    server = door

    async def two_requests_on_one_connection():
        conn = Connection("127.0.0.1", server.port)
        first = await conn.request("GET", "/healthz")
        writer = conn.writer
        second = await conn.request("GET", "/api/v1/events")
        assert conn.writer is writer, "the second request needed a new connection"
        await conn.close()
        return first, second

    first, second = asyncio.run(two_requests_on_one_connection())
    assert (first.status, second.status) == (200, 200)
    for answer in (first, second):
        assert answer.headers["server"] == "nginx"
        assert answer.headers.get("connection", "keep-alive").lower() == "keep-alive"
    # gunicorn listens on unix sockets only: nothing but nginx on the port.
    assert (server.run_dir / "app.sock").is_socket() and (server.run_dir / "auth.sock").is_socket()


def test_request_id_travels_through_nginx_into_the_log_and_back(door):
    server = door
    mine = server.get("/healthz", headers={"X-Request-ID": "trace-7f3a"})
    generated = server.get("/healthz")
    insane = server.get("/healthz", headers={"X-Request-ID": "has spaces"})

    assert mine.headers["X-Request-ID"] == "trace-7f3a"
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["X-Request-ID"])  # nginx's $request_id
    assert re.fullmatch(r"[0-9a-f]{32}", insane.headers["X-Request-ID"])
    for answer in (mine, generated, insane):
        request_id = answer.headers["X-Request-ID"]
        wait_until(
            lambda rid=request_id: any(line["request_id"] == rid for line in server.log_lines()),
            f"{request_id} not in the app's log",
        )
        wait_until(  # nginx logs a request after it has answered it
            lambda rid=request_id: any(line["request_id"] == rid for line in server.access_log()),
            f"{request_id} not in nginx's access log",
        )


def test_the_app_trusts_exactly_one_forwarding_hop(door, client, capsys):
    # In process: of "client, proxy-1" the app believes the last hop only.
    client.get("/healthz", headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.7"})
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert logged[-1]["remote_addr"] == "203.0.113.7"

    # Through nginx: whatever a client claims, the app sees the address nginx saw.
    server = door
    answer = server.get("/healthz", headers={"X-Forwarded-For": "6.6.6.6", "X-Request-ID": "xff-check"})
    assert answer.status_code == 200
    wait_until(lambda: any(line["request_id"] == "xff-check" for line in server.log_lines()), "not logged")
    (line,) = [line for line in server.log_lines() if line["request_id"] == "xff-check"]
    assert line["remote_addr"] == "127.0.0.1"


def _raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(data)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _problem_of(raw: bytes) -> tuple[int, dict, dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    return int(lines[0].split()[1]), headers, json.loads(body)


def test_oversized_and_malformed_requests_get_problem_json_from_nginx(door):
    server = door
    big_header = server.get("/healthz", headers={"X-Padding": "a" * 20_000})
    big_body = server.post(
        "/api/v1/orders", data=b"x" * 2_000_000, headers={"Content-Type": "application/json"}
    )
    long_uri = server.get("/" + "a" * 20_000)
    garbage = _raw(server.port, b"GARBAGE\r\n\r\n")

    assert big_header.status_code == 431
    assert big_body.status_code == 413
    assert long_uri.status_code == 414
    answers = [
        (r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.json())
        for r in (big_header, big_body, long_uri)
    ]
    answers.append(_problem_of(garbage))
    assert answers[-1][0] == 400
    for status, headers, body in answers:
        assert headers["content-type"] == PROBLEM
        assert body["status"] == status
        assert body["type"] == (
            "/problems/payload-too-large" if status == 413 else "/problems/malformed-request"
        )
    # The app's own 413 (over MAX_BODY_BYTES, under nginx's limit) still comes from the app.
    app_limit = server.post(
        "/api/v1/signup", data=b"x" * 100_000, headers={"Content-Type": "application/json"}
    )
    assert app_limit.status_code == 413 and app_limit.json()["instance"] == "/api/v1/signup"


def test_a_client_that_stops_sending_is_cut_off(front_door):
    server = front_door(NGINX_CLIENT_TIMEOUT="1s")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        started = time.monotonic()
        try:
            assert conn.recv(1024) == b""  # closed without an answer...
        except ConnectionResetError:
            pass  # ...or reset (reset_timedout_connection)
        assert time.monotonic() - started < 5


def test_the_templates_need_nothing_but_their_placeholders():
    values = {name: "1" for name in frontdoor.SETTINGS}
    door = frontdoor.FrontDoor({"PORT": "8080", "DEV_DATA_DIR": "/tmp/x"}, "nginx")
    values.update(door.nginx_values())
    for name in frontdoor.TEMPLATES:
        text = (frontdoor.NGINX_DIR / name).read_text()
        frontdoor.render(text, values)  # raises on an unknown placeholder
        # The nginx image's envsubst also replaces $NAME without braces: none may look so.
        assert not re.findall(r"\$[A-Z][A-Z0-9_]*", text), name


def _metric(server, name: str, **labels: str) -> float:
    text = requests.get(f"http://127.0.0.1:{server.metrics_port}/metrics", timeout=REQUEST_TIMEOUT).text
    total = 0.0
    for found_labels, value in re.findall(rf"^{name}{{([^}}]*)}} (\S+)$", text, re.M):
        found = dict(re.findall(r'(\w+)="([^"]*)"', found_labels))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(value)
    return total


def test_each_app_worker_is_its_own_gunicorn_and_nginx_balances_them(front_door):
    """APP_BALANCING=nginx (the default): WEB_CONCURRENCY=2 runs two one-worker gunicorns
    on app.sock and app-2.sock; nginx splits APP_MAX_CONNS between them (3 + 2 of 5) and
    sends requests to both (least_conn); the first one's metrics listener counts both."""
    server = front_door(WEB_CONCURRENCY="2", APP_MAX_CONNS="5")
    first, second = server.run_dir / "app.sock", server.run_dir / "app-2.sock"
    assert first.is_socket() and second.is_socket()
    conf = (server.run_dir / "nginx" / "ticketing.conf").read_text()
    upstream = conf[conf.index("upstream ticketing_app {") :]
    upstream = upstream[: upstream.index("}")]
    assert "least_conn;" in upstream
    assert f"server unix:{first} max_conns=3;" in upstream
    instances = (server.run_dir / "nginx" / "app-instances.conf").read_text()
    assert instances == f"server unix:{second} max_conns=2;\n"
    masters = app_masters(server)
    assert sorted(masters) == ["1", "2"]
    assert [len(masters[n].children()) for n in ("1", "2")] == [1, 1]
    assert masters["2"].environ()["METRICS_PORT"] == "0"  # only the first serves metrics

    before = _metric(server, "http_requests_total", route="/healthz")
    for _ in range(20):
        assert server.get("/healthz").status_code == 200
    served = [line["upstream"] for line in server.access_log() if line["uri"] == "/healthz"]
    assert served.count(f"unix:{first}") >= 5 and served.count(f"unix:{second}") >= 5, served
    wait_until(  # the workers move their metrics into the shared files every second
        lambda: _metric(server, "http_requests_total", route="/healthz") - before >= 20,
        "the metrics listener does not count the second instance's requests",
    )


def test_app_max_conns_is_split_into_shares_that_add_up():
    assert frontdoor.shares(16, 2) == [8, 8]
    assert frontdoor.shares(5, 2) == [3, 2]
    assert frontdoor.shares(7, 3) == [3, 2, 2]
    assert frontdoor.shares(16, 1) == [16]
    assert frontdoor.shares(1, 2) == [1, 1]  # nginx has no max_conns=0


def test_app_balancing_kernel_is_one_gunicorn_with_its_workers_on_one_socket(front_door):
    server = front_door(WEB_CONCURRENCY="2", APP_MAX_CONNS="5", APP_BALANCING="kernel")
    assert not (server.run_dir / "app-2.sock").exists()
    conf = (server.run_dir / "nginx" / "ticketing.conf").read_text()
    assert f"server unix:{server.run_dir / 'app.sock'} max_conns=5;" in conf
    masters = app_masters(server)
    assert sorted(masters) == ["1"] and len(masters["1"].children()) == 2
    assert server.get("/healthz").status_code == 200


def test_bad_front_door_settings_are_refused():
    for name, bad in [("RATE_LIMITS", "maybe"), ("APP_MAX_CONNS", "0"), ("NGINX_MAX_BODY", "1g; evil")]:
        try:
            frontdoor.settings_from({name: bad})
        except frontdoor.FrontDoorError as exc:
            assert name in str(exc)
        else:
            raise AssertionError(f"{name}={bad!r} accepted")
    with pytest.raises(frontdoor.FrontDoorError, match="APP_BALANCING"):
        frontdoor.FrontDoor({"APP_BALANCING": "random"}, nginx="nginx")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_make_run_stops_entirely_on_a_signal_to_its_process_group(
    database_url, owner_database_url, nginx, signum
):
    port = free_port()
    server = start_front_door(
        database_url,
        command=["make", "-s", "--no-print-directory", "run"],
        PORT=str(port),
        MIGRATION_DATABASE_URL=owner_database_url,  # make run migrates first, as the tables' owner
    )
    try:
        assert server.get("/healthz").headers["Server"] == "nginx"
        members = group_processes(server.process.pid)
        assert len(members) >= 7  # make, the front door, nginx and its worker, 2 gunicorn masters, workers
        server.signal_group(signum)  # a supervisor's SIGTERM, a terminal's Ctrl-C
        server.process.wait(SERVER_STOP_TIMEOUT)
        wait_until(
            lambda: not group_processes(server.process.pid), f"processes left running after {signum!r}"
        )
        assert frontdoor.port_is_free("127.0.0.1", port)
        assert not list(server.run_dir.glob("app*.sock"))
    finally:
        remove(server)


def test_two_front_doors_run_side_by_side_from_one_checkout(database_url, nginx):
    shared = short_folder()  # one DEV_DATA_DIR, as two `make run`s of one checkout share
    first = second = None
    try:
        first = start_front_door(database_url, DEV_DATA_DIR=str(shared))
        second = start_front_door(database_url, DEV_DATA_DIR=str(shared))
        assert first.run_dir != second.run_dir and first.run_dir.parent == second.run_dir.parent
        assert first.get("/healthz").status_code == second.get("/healthz").status_code == 200
        first.stop()
        assert second.get("/healthz").status_code == 200  # stopping one leaves the other alone
    finally:
        for server in (first, second):
            if server is not None:
                remove(server)
        shutil.rmtree(shared, ignore_errors=True)


def test_compose_renders_the_same_templates_with_the_same_defaults():
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    nginx = services["nginx"]
    env = nginx["environment"]
    assert "./deploy/nginx:/etc/nginx/templates:ro" in nginx["volumes"]
    assert env["NGINX_ENVSUBST_OUTPUT_DIR"] == "/etc/nginx"  # nginx.conf is ours too
    for name, setting in frontdoor.SETTINGS.items():
        assert env[name] == f"${{{name}:-{setting.default}}}", name
    placeholders = set()
    for name in frontdoor.TEMPLATES:
        placeholders |= set(frontdoor._PLACEHOLDER.findall((frontdoor.NGINX_DIR / name).read_text()))
    assert sorted(placeholders - set(env)) == []
    # nginx is the one public listener (the observability profile's tools publish on loopback only).
    published = {name: service["ports"] for name, service in services.items() if "ports" in service}
    assert [
        name for name, service in services.items() if "ports" in service and "profiles" not in service
    ] == ["nginx"]
    assert all(
        port.startswith("127.0.0.1:") for name in ("prometheus", "grafana") for port in published[name]
    )
    assert env["APP_UPSTREAM"] == "api:8080" and env["AUTH_UPSTREAM"] == "auth:8080"


def test_tls_terminates_at_nginx_with_hsts(front_door, tmp_path):
    certs = tmp_path / "tls"
    certs.mkdir()
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(certs / "tls.key"),
            "-out",
            str(certs / "tls.crt"),
        ],
        check=True,
        capture_output=True,
    )
    tls_port = free_port()
    server = front_door(TLS_CERT_DIR=str(certs), TLS_PORT=str(tls_port))

    secure = requests.get(f"https://127.0.0.1:{tls_port}/healthz", verify=str(certs / "tls.crt"), timeout=10)
    refused = requests.get(
        f"https://127.0.0.1:{tls_port}/" + "a" * 20_000, verify=str(certs / "tls.crt"), timeout=10
    )
    plain = server.get("/healthz")

    assert secure.status_code == 200 and secure.headers["Server"] == "nginx"
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    assert refused.status_code == 414 and "Strict-Transport-Security" in refused.headers
    assert "Strict-Transport-Security" not in plain.headers


def test_bcrypt_paths_go_to_the_auth_pool_and_the_rest_to_the_app_pool(door, users):
    user = users.create()
    calls = [
        ("POST", "/api/v1/login", {"json": {"email": user["email"], "password": user["password"]}}, "auth"),
        (
            "POST",
            "/api/v1/signup",
            {"json": {"name": "A", "email": "pool@example.com", "password": "x" * 12}},
            "auth",
        ),
        ("PATCH", "/api/v1/me", {"json": {"name": "Renamed"}, "headers": user["headers"]}, "auth"),
        ("GET", "/api/v1/me", {"headers": user["headers"]}, "app"),
        ("GET", "/api/v1/events", {}, "app"),
        (
            "POST",
            "/api/v1/orders",
            {"json": {"event_id": str(uuid.uuid4()), "quantity": 1}, "headers": user["headers"]},
            "app",
        ),
    ]
    for method, path, kwargs, pool in calls:
        request_id = f"pool-{uuid.uuid4().hex}"
        kwargs.setdefault("headers", {})
        kwargs["headers"] = {**kwargs["headers"], "X-Request-ID": request_id}
        answer = door.request(method, path, **kwargs)
        assert answer.status_code < 500, (method, path, answer.text)
        wait_until(
            lambda rid=request_id: any(e["request_id"] == rid for e in door.access_log()), "not logged"
        )
        (entry,) = [e for e in door.access_log() if e["request_id"] == request_id]
        # the app pool: app.sock, or app-2.sock (one gunicorn per worker, APP_BALANCING)
        assert re.search(rf"/{pool}(-\d+)?\.sock$", entry["upstream"]), (method, path, entry["upstream"])


def test_without_nginx_it_says_so_and_serves_gunicorn_on_loopback_only(database_url):
    # nginx "cannot be had": not found, and no apt-get on PATH to install it.
    script = "import sys; from ticketing import frontdoor; frontdoor.find_nginx = lambda: None; sys.exit(frontdoor.main())"
    server = start_front_door(
        database_url,
        command=[sys.executable, "-c", script],
        served_by="gunicorn",
        HOST="0.0.0.0",
        PATH=str(Path(sys.executable).parent),
    )
    log_path = server.log_path
    try:
        assert server.get("/healthz").headers.get("Server", "").startswith("gunicorn")
        output = log_path.read_text()
        assert "nginx is not installed and there is no apt-get" in output
        assert "WITHOUT the front door" in output
        assert f"Listening at: http://127.0.0.1:{server.port}" in output  # HOST=0.0.0.0 ignored
    finally:
        remove(server)


def test_the_app_believes_the_scheme_nginx_saw(door, client, admin, make_event):
    from tests.test_images import PNG

    event = make_event()
    # In process: one hop of X-Forwarded-Proto is trusted...
    direct = client.post(
        f"/api/v1/events/{event['id']}/image",
        data={"image": (io.BytesIO(PNG), "poster.png", "image/png")},
        headers={**admin["headers"], "X-Forwarded-Proto": "https"},
    )
    assert direct.status_code == 200 and direct.json["image_url"].startswith("https://")
    # ...and through nginx, that hop is nginx's: a client's own claim is overwritten.
    proxied = door.post(
        f"/api/v1/events/{event['id']}/image",
        files={"image": ("poster.png", PNG, "image/png")},
        headers={**admin["headers"], "X-Forwarded-Proto": "https"},
    )
    assert proxied.status_code == 200, proxied.text
    assert proxied.json()["image_url"].startswith(f"http://127.0.0.1:{door.port}/api/v1/images/")


def test_metrics_are_never_served_through_the_front_door(door):
    """The pools serve /metrics on their own listeners (METRICS_PORT, + 1 for the auth pool),
    never on the public port: through nginx it is a plain 404."""
    response = door.get("/metrics")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == PROBLEM
    assert "http_requests_total" not in response.text
    base = door.metrics_port
    if base:
        for port in (base, base + 1):  # the app pool, the auth pool
            served = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=REQUEST_TIMEOUT)
            assert served.status_code == 200 and "ticketing_tickets_sold_total" in served.text
