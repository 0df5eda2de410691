"""Step 3: one hot event and N users inserted by SQL, their tokens minted directly."""

from bench.database import scalar
from ticketing.security import issue_token


def create_users(conn, count: int) -> tuple[str, list[str]]:
    """One admin and `count` users, with a dummy password hash (no bcrypt per user)."""
    admin_id = scalar(
        conn,
        "INSERT INTO users (name, email, password_hash, role)"
        " VALUES ('Bench Admin', 'bench-admin@example.com', 'not-a-bcrypt-hash', 'admin') RETURNING id",
    )
    cur = conn.cursor()
    cur.execute(
        "INSERT INTO users (name, email, password_hash)"
        " SELECT 'Bench User ' || i, 'bench-user-' || i || '@example.com', 'not-a-bcrypt-hash'"
        "   FROM generate_series(1, %s) AS i RETURNING id",
        (count,),
    )
    return admin_id, [row[0] for row in cur.fetchall()]


def mint_tokens(user_ids: list[str], jwt_secret: str) -> list[str]:
    return [issue_token(user_id, "user", jwt_secret, ttl=3600) for user_id in user_ids]


def create_hot_event(conn, admin_id: str, name: str, types: int = 1) -> str:
    """An event of a million tickets with `types` ticket types ("General" first, as
    POST /events makes it; then "Type 2"... each of a million too: the event's cap binds)."""
    return scalar(
        conn,
        "WITH event AS ("
        " INSERT INTO events (name, location, organization, rating, date, capacity, remaining,"
        "                     price, max_per_order, created_by)"
        " VALUES (%s, 'Bench Arena', 'Bench', 'G', now() + interval '1 year', 1000000, 1000000,"
        "         100.00, 10, %s) RETURNING id, max_per_order"
        "), types AS ("
        " INSERT INTO ticket_types (event_id, name, price, capacity, remaining, max_per_order, position)"
        " SELECT event.id, CASE WHEN n = 1 THEN 'General' ELSE 'Type ' || n END, 100.00 + n - 1,"
        "        1000000, 1000000, event.max_per_order, n"
        "   FROM event, generate_series(1, %s) AS n"
        ") SELECT id FROM event",
        (name, admin_id, types),
    )


def second_type(conn, event_id: str) -> str:
    """The event's second ticket type: a typed purchase names it (not the default)."""
    return scalar(conn, "SELECT id FROM ticket_types WHERE event_id = %s AND position = 2", (event_id,))
