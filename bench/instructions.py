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


def child(iterations: int, event_id: str, token: str) -> None:
    """The measured process: create the app, then buy and read `iterations` times."""
    os.environ["EXPIRY_SWEEP_MS"] = "0"
    os.environ["JWT_SECRET"] = JWT_SECRET
    from ticketing import create_app

    client = create_app().test_client()
    headers = {"Authorization": f"Bearer {token}"}
    body = {"event_id": event_id, "quantity": 1}
    for _ in range(iterations):
        bought = client.post("/api/v1/orders", json=body, headers=headers)
        assert bought.status_code == 201, bought.get_data()
        read = client.get("/api/v1/orders/" + bought.get_json()["id"], headers=headers)
        assert read.status_code == 200, read.get_data()


def count(valgrind: str, tree: Path, url: str, iterations: int, event_id: str, token: str) -> int:
    from bench import OUT_DIR

    out = OUT_DIR / f"callgrind-{iterations}.out"
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
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--event", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.child is not None:
        return child(opts.child, opts.event, opts.token)

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
    base = count(valgrind, tree, url, opts.warm, event_id, token)
    more = count(valgrind, tree, url, opts.warm + opts.requests, event_id, token)
    per = (more - base) / opts.requests
    git = ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"]
    commit = subprocess.run(git, capture_output=True, text=True)
    print(f"tree {tree} at {commit.stdout.strip()}")
    print(f"start-up and {opts.warm} iterations: {base:,} instructions")
    print(f"per iteration (POST /orders + GET /orders/{{id}}): {per:,.0f} instructions")


if __name__ == "__main__":
    main()
