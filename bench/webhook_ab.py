"""A/B of the webhook cost on one machine that is busy with other work: `python -m
bench.webhook_ab [pairs] [seconds]` runs wrk against one gunicorn in alternating short
runs, without and with an endpoint subscribed to order.created (disabled/enabled between
runs), and prints each pair and the median ratio. Alternating pairs cancel most of the
drift that separate runs minutes apart suffer from (docs/performance.md)."""

import secrets
import statistics
import sys

from bench import database, seed, server, webhooks, wrk


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    pairs = int(argv[0]) if argv else 5
    seconds = int(argv[1]) if len(argv) > 1 else 8
    wrk.ensure_installed()
    url, _ = database.bench_target()
    database.recreate(url)
    conn = database.connect(url)
    jwt_secret = secrets.token_urlsafe(48)
    env = {**server.production_env(database_url=url, jwt_secret=jwt_secret), **webhooks.ENV}
    admin_id, user_ids = seed.create_users(conn, 1000)
    tokens = seed.mint_tokens(user_ids, jwt_secret)
    ratios = []
    with server.running(env) as (base_url, _log), webhooks.endpoint_subscribed(conn) as endpoint:
        event = seed.create_hot_event(conn, admin_id, "A/B hot event")

        def rate(label):
            before = database.count_orders(conn, event)
            wrk.run(label, base_url=base_url, tokens=tokens, event_id=event, duration=seconds, connections=64)
            return (database.wait_drained(conn, event) - before) / seconds

        def subscribed(on: bool):
            database.scalar(
                conn,
                "UPDATE webhook_endpoints SET disabled_at = CASE WHEN %s THEN NULL ELSE now() END"
                " WHERE id = %s RETURNING id",
                (on, endpoint),
            )

        subscribed(False)
        rate("warmup")
        for i in range(pairs):
            subscribed(False)
            without = rate(f"ab-{i}-without")
            subscribed(True)
            with_ = rate(f"ab-{i}-with")
            ratios.append(with_ / without)
            print(
                f"pair {i}: without {without:.0f}/s, with {with_:.0f}/s, ratio {with_ / without:.2f}",
                flush=True,
            )
        figures = webhooks.delivery_figures(conn, endpoint)
    print(
        f"median ratio with/without: {statistics.median(ratios):.2f} over {pairs} pairs; deliveries {figures}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
