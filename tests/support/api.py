"""Calls to the API, through any Flask test client, that several test files make."""

# The keys of a signed-in request's JSON log line, in order (ticketing/observability.py):
# the fast lanes write the same line as Flask.
SIGNED_IN_LOG_KEYS = ["method", "path", "status", "duration_ms", "request_id", "remote_addr", "user_id"]


def login(client, email, password):
    return client.post("/api/v1/login", json={"email": email, "password": password})
