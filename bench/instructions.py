"""CPU instructions per purchase, counted by valgrind's callgrind: `make bench-instructions`.

Wall-clock figures on a shared 2-core machine swing by 2x between minutes; an instruction
count does not (the same binary and inputs count the same, whatever else runs). This runs
the app in-process (Flask's test client, the real database through the pool) under
callgrind twice, for `--warm` and `--warm + --requests` iterations of one purchase
(POST /api/v1/orders) and one read of it (GET /api/v1/orders/{id}), and prints the
difference per iteration: start-up and imports cancel out. PostgreSQL's own work is not
counted (it is another process); psycopg2's client side is.

`--tree DIR` measures another checkout's `ticketing` (say, a worktree of an older commit)
with this script and this database, so a before/after needs no copy of the script.

`--kind join` counts one join of an event's waiting room by a fresh user (a new token,
verified once, as in a rush) instead, and `--kind poll` one poll of it (GET, by a user who
joined): the waiting room's hot paths against the purchase's (docs/waiting-room.md).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

JWT_SECRET = "bench-instructions-" + "x" * 32  # in-process only, never a deployment's


def ensure_valgrind() -> str:
    found = shutil.which("valgrind")
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    subprocess.call([*sudo, "apt-get", "install", "-y", "-q", "valgrind"])
    found = shutil.which("valgrind")
    if not found:
        raise SystemExit("valgrind is not installed and apt-get could not install it")
    return found


def child(iterations: int, event_id: str, token: str, kind: str = "purchase", offset: int = 0) -> None:
    """The measured process: create the app, then buy and read `iterations` times (or join
    or poll the waiting room `iterations` times, as the users of the token file from `offset`)."""
    os.environ["EXPIRY_SWEEP_MS"] = "0"
    os.environ["QUEUE_ADMIT_MS"] = "0"
    os.environ["JWT_SECRET"] = JWT_SECRET
    from ticketing import create_app

    client = create_app().test_client()
    if kind != "purchase":
        import json

        tokens = json.loads(Path(token).read_text())[offset : offset + iterations]
        url = f"/api/v1/events/{event_id}/queue"
        for user_token in tokens:
            answer = client.open(
                url,
                method="POST" if kind == "join" else "GET",
                headers={"Authorization": f"Bearer {user_token}"},
            )
            assert answer.status_code == (201 if kind == "join" else 200), answer.get_data()
        return
    headers = {"Authorization": f"Bearer {token}"}
    body = {"event_id": event_id, "quantity": 1}
    for _ in range(iterations):
        bought = client.post("/api/v1/orders", json=body, headers=headers)
        assert bought.status_code == 201, bought.get_data()
        read = client.get("/api/v1/orders/" + bought.get_json()["id"], headers=headers)
        assert read.status_code == 200, read.get_data()


def count(
    valgrind: str, tree: Path, url: str, iterations: int, event_id: str, token: str, kind="purchase", offset=0
) -> int:
    from bench import OUT_DIR

    out = OUT_DIR / f"callgrind-{kind}-{iterations}.out"
    command = [
        valgrind,
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
        sys.executable,
        __file__,
        "--child",
        str(iterations),
        "--event",
        event_id,
        "--token",
        token,
        "--kind",
        kind,
        "--offset",
        str(offset),
    ]
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(tree)}
    done = subprocess.run(command, env=env, cwd=tree, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"callgrind run failed:\n{done.stderr[-3000:]}")
    return int(re.search(r"Collected : (\d+)", done.stderr).group(1))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__.split("\n")[0])
    parser.add_argument("--warm", type=int, default=20, help="iterations in the baseline run (20)")
    parser.add_argument("--requests", type=int, default=100, help="extra iterations measured (100)")
    parser.add_argument("--tree", type=Path, default=REPO_ROOT, help="checkout whose app is measured (this)")
    parser.add_argument(
        "--kind",
        choices=("purchase", "join", "poll"),
        default="purchase",
        help="what one iteration is (purchase)",
    )
    parser.add_argument("--offset", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--event", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.child is not None:
        return child(opts.child, opts.event, opts.token, opts.kind, opts.offset)

    from bench import OUT_DIR, database, seed
    from ticketing.security import issue_token

    valgrind = ensure_valgrind()
    OUT_DIR.mkdir(exist_ok=True)
    url, _ = database.bench_target()
    database.recreate(url)
    conn = database.connect(url)
    admin_id, (user_id,) = seed.create_users(conn, 1)
    event_id = str(seed.create_hot_event(conn, admin_id, f"Instructions {uuid.uuid4().hex[:8]}"))
    token = issue_token(str(user_id), "user", JWT_SECRET, ttl=24 * 3600)
    tree = opts.tree.resolve()
    runs = {"base": (opts.warm, 0), "more": (opts.warm + opts.requests, 0)}
    if opts.kind != "purchase":
        import json

        from bench import queue

        event_id = str(queue.create_queued_event(conn, admin_id))
        joiners = queue.create_joiners(conn, 2 * opts.warm + opts.requests, JWT_SECRET)
        if opts.kind == "poll":  # everyone has joined already
            conn.cursor().execute(
                "INSERT INTO queue_entries (event_id, user_id, place)"
                " SELECT %s, user_id::uuid, nextval('queue_places') FROM unnest(%s::text[]) AS user_id",
                (event_id, list(joiners)),
            )
        token = str(OUT_DIR / "instructions-tokens.json")
        Path(token).write_text(json.dumps(list(joiners.values())))
        runs["more"] = (opts.warm + opts.requests, opts.warm)  # fresh users again for the joins
    base = count(valgrind, tree, url, runs["base"][0], event_id, token, opts.kind, runs["base"][1])
    more = count(valgrind, tree, url, runs["more"][0], event_id, token, opts.kind, runs["more"][1])
    per = (more - base) / opts.requests
    git = ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"]
    commit = subprocess.run(git, capture_output=True, text=True)
    print(f"tree {tree} at {commit.stdout.strip()}")
    print(f"start-up and {opts.warm} iterations: {base:,} instructions")
    what = {
        "purchase": "POST /orders + GET /orders/{id}",
        "join": "POST /events/{id}/queue, a fresh user",
        "poll": "GET /events/{id}/queue",
    }[opts.kind]
    print(f"per iteration ({what}): {per:,.0f} instructions")


if __name__ == "__main__":
    main()
