"""Calls to the API, through any Flask test client, that several test files make."""


def login(client, email, password):
    return client.post("/api/v1/login", json={"email": email, "password": password})
