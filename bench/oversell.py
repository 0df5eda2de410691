"""Step 5: the oversell check from the database, after one measured API run."""

from ticketing import sql


def check(conn, *, event_id: str, wrk_201: int, server_201: int, new_orders: int, connections: int) -> dict:
    cur = conn.cursor()
    cur.execute(sql.to_psycopg(sql.path_of("orders/invariant_violations").read_text()), {})
    violations = [dict(zip([c.name for c in cur.description], row)) for row in cur.fetchall()]
    cur.execute(
        "SELECT e.capacity - e.remaining,"
        "       (SELECT count(*) FROM tickets t WHERE t.event_id = e.id AND t.status <> 'CANCELLED')"
        "  FROM events e WHERE e.id = %s",
        (event_id,),
    )
    taken, live = cur.fetchone()
    checks = {
        "invariant_violations": len(violations),
        "capacity_minus_remaining": taken,
        "live_tickets": live,
        "books_balance": not violations and taken == live,
        # The app logs every answer: its 201s must be exactly the new orders.
        "server_201_equals_new_orders": server_201 == new_orders,
        # wrk stops without reading the responses in flight (at most one per connection).
        "wrk_201_within_new_orders": wrk_201 <= new_orders <= wrk_201 + connections,
    }
    checks["pass"] = all(v for k, v in checks.items() if isinstance(v, bool))
    if violations:
        checks["violations"] = [{k: str(v) for k, v in row.items()} for row in violations]
    return checks
