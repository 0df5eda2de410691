"""What the tests share besides fixtures (those are in tests/conftest.py), one home each:

- timeouts: how long any test waits, and `wait_until`
- servers: free ports, the gunicorn command line, starting and stopping live servers
- frontdoor: the front door (nginx + gunicorn pools, as `make run`), a raw HTTP/1.1 client
- concurrency: `run_together` / `rush`, threads released at the same instant
- books: `remaining`, `assert_books_balance`
- problems: checks of problem+json answers
- samples: test secrets, a valid event and signup body
- api: calls to the API several test files make (login)
- webhooks: signed payment-webhook calls; receiver: a real HTTP receiver of outgoing webhooks
- pooler: PgBouncer (transaction pooling) in front of the test database
- cluster: `make cluster` on free ports, retrying buyers, the checks of a sale that survived
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent  # the repository
