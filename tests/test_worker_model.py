"""The app pool's default worker model (gthread, gunicorn.conf.py) as the front door relies on
it: a stop finishes the requests in flight."""

import signal
import threading
import time

import psycopg2

from tests.support.timeouts import REQUEST_TIMEOUT


def test_a_stop_finishes_the_purchase_in_flight(gunicorn, database_url, make_event, buyer):
    """SIGTERM to the master while a purchase waits on the event's row lock: the worker stops
    taking connections but answers the purchase (201, and the order is in the database),
    then everything exits within graceful_timeout."""
    server = gunicorn(EXPIRY_SWEEP_MS="0")
    event_id = make_event(capacity=5)["id"]
    answers = []
    locker = psycopg2.connect(database_url)
    try:
        with locker.cursor() as cur:  # a transaction holding the event row: the purchase waits
            cur.execute("SELECT 1 FROM events WHERE id = %s FOR UPDATE", (event_id,))
        buying = threading.Thread(
            target=lambda: answers.append(
                server.post(
                    "/api/v1/orders", json={"event_id": event_id, "quantity": 1}, headers=buyer["headers"]
                )
            )
        )
        buying.start()
        deadline = time.monotonic() + REQUEST_TIMEOUT
        # Watched from a connection of its own (the locker's transaction stays open) through
        # pg_locks: the app connects as another role, whose wait events in pg_stat_activity
        # a non-superuser cannot see.
        with psycopg2.connect(database_url) as watcher, watcher.cursor() as cur:
            watcher.autocommit = True
            while time.monotonic() < deadline:
                cur.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
                if cur.fetchone()[0]:
                    break
                time.sleep(0.05)
            else:
                raise AssertionError(f"the purchase never waited on the event's lock: {answers}")
        stopping = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        time.sleep(1)
        assert server.process.poll() is None  # still finishing the request in flight
        locker.commit()
        buying.join(REQUEST_TIMEOUT)
        server.process.wait(15)
        assert time.monotonic() - stopping < 12  # graceful_timeout (10 s), not a kill at 30
    finally:
        locker.close()
    assert answers and answers[0].status_code == 201, answers and answers[0].text
    order_id = answers[0].json()["id"]
    with psycopg2.connect(database_url) as check, check.cursor() as cur:
        cur.execute("SELECT status FROM orders WHERE id = %s", (order_id,))
        assert cur.fetchone() is not None
