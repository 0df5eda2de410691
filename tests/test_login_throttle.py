"""Failed logins per email: a growing delay after LOGIN_FREE_FAILURES, shared by every
worker and instance (the database counts), the same for unknown emails, never a permanent
lockout, and off with RATE_LIMITS=off (issue 9, §3)."""

from __future__ import annotations

import time

from tests.support.api import login
from tests.support.concurrency import rush
from tests.support.problems import assert_problem

WRONG = "wrong password"


def count(sql, email):
    return sql.value("SELECT failures FROM login_failures WHERE email = lower(%s)", (email,))


def fail(client, email, times):
    for _ in range(times):
        assert_problem(login(client, email, WRONG), 401, "invalid-credentials")


def test_after_five_failures_even_the_right_password_waits(client, buyer, sql):
    fail(client, buyer["email"], 5)
    response = login(client, buyer["email"], buyer["password"])
    problem = assert_problem(response, 429, "rate-limited", "/api/v1/login")
    assert response.headers["Retry-After"] == "1"
    assert "try again in 1 s" in problem["detail"]
    assert count(sql, buyer["email"]) == 5  # a refused attempt is not counted


def test_the_wait_ends_by_itself_and_a_right_password_forgets_the_failures(client, buyer, sql):
    fail(client, buyer["email"], 5)
    assert login(client, buyer["email"], buyer["password"]).status_code == 429
    time.sleep(1.1)
    assert login(client, buyer["email"].upper(), buyer["password"]).status_code == 200
    assert count(sql, buyer["email"]) is None
    fail(client, buyer["email"], 5)  # five free failures again


def test_the_wait_doubles_per_failure_up_to_the_cap(client, buyer, sql):
    fail(client, buyer["email"], 5)
    for failures, wait in [(6, 2), (7, 4), (10, 32), (14, 512), (15, 900), (40, 900)]:
        sql.all(
            "UPDATE login_failures SET failures = %s, last_failure_at = now() WHERE email = lower(%s)",
            (failures, buyer["email"]),
        )
        response = login(client, buyer["email"], buyer["password"])
        assert response.status_code == 429
        assert wait - 1 <= int(response.headers["Retry-After"]) <= wait
    # Once the wait is over, one more attempt may try, and a wrong one waits the cap again.
    sql.all("UPDATE login_failures SET last_failure_at = now() - interval '901 s'")
    assert_problem(login(client, buyer["email"], WRONG), 401, "invalid-credentials")
    assert int(login(client, buyer["email"], WRONG).headers["Retry-After"]) in (899, 900)
    assert count(sql, buyer["email"]) == 41


def test_failures_are_forgotten_after_the_window(client, buyer, sql):
    fail(client, buyer["email"], 5)
    sql.all("UPDATE login_failures SET last_failure_at = now() - interval '3601 s'")
    fail(client, buyer["email"], 1)
    assert count(sql, buyer["email"]) == 1


def test_an_unknown_email_is_answered_exactly_like_a_known_one(client, buyer):
    def answers(email):
        seen = []
        for _ in range(7):
            response = login(client, email, WRONG)
            body = response.json
            seen.append(
                (response.status_code, body["type"], body["detail"], response.headers.get("Retry-After"))
            )
        return seen

    known = answers(buyer["email"])
    assert known == answers("nobody@example.com")
    assert [status for status, *_ in known] == [401] * 5 + [429] * 2


def test_the_thresholds_are_settings(make_app, buyer):
    client = make_app(login_free_failures=2, login_max_delay_seconds=1).test_client()
    fail(client, buyer["email"], 2)
    assert login(client, buyer["email"], buyer["password"]).status_code == 429


def test_rate_limits_off_never_throttles(make_app, buyer, sql):
    client = make_app(rate_limits=False).test_client()
    fail(client, buyer["email"], 12)
    assert login(client, buyer["email"], buyer["password"]).status_code == 200
    assert sql.value("SELECT count(*) FROM login_failures") == 0


def test_concurrent_wrong_logins_are_all_counted_and_few_get_a_check(live_server, buyer, sql):
    """40 wrong passwords at once on 3 workers: every checked one is counted (no lost
    update), and only about LOGIN_FREE_FAILURES reach bcrypt; the rest wait."""
    body = {"email": buyer["email"], "password": WRONG}
    responses = rush(40, lambda i, session: live_server.post("/api/v1/login", json=body, session=session))
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {401, 429}, statuses
    assert count(sql, buyer["email"]) == statuses.count(401)
    # 5 free, then one per wait (1 s, 2 s, 4 s...): more than 8 would take a 7 s burst.
    assert 5 <= statuses.count(401) <= 8, statuses
    for response in responses:
        if response.status_code == 429:
            assert response.headers["Content-Type"] == "application/problem+json"
            assert int(response.headers["Retry-After"]) >= 1


def test_every_instance_shares_the_count(live_server, gunicorn, buyer):
    other = gunicorn()
    body = {"email": buyer["email"], "password": WRONG}
    for server in (live_server, other, live_server, other, live_server):
        assert server.post("/api/v1/login", json=body).status_code == 401
    right = {"email": buyer["email"], "password": buyer["password"]}
    assert other.post("/api/v1/login", json=right).status_code == 429
    assert live_server.post("/api/v1/login", json=right).status_code == 429


def test_gunicorn_with_rate_limits_off(gunicorn, buyer):
    server = gunicorn(RATE_LIMITS="off")
    body = {"email": buyer["email"], "password": WRONG}
    assert {server.post("/api/v1/login", json=body).status_code for _ in range(8)} == {401}
    right = {"email": buyer["email"], "password": buyer["password"]}
    assert server.post("/api/v1/login", json=right).status_code == 200
