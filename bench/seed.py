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


def create_hot_event(conn, admin_id: str, name: str) -> str:
    return scalar(
        conn,
        "INSERT INTO events (name, location, organization, rating, date, capacity, remaining,"
        "                    price, max_per_order, created_by)"
        " VALUES (%s, 'Bench Arena', 'Bench', 'G', now() + interval '1 year', 1000000, 1000000,"
        "         100.00, 10, %s) RETURNING id",
        (name, admin_id),
    )
