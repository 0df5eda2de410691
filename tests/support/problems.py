"""Checks of problem+json (RFC 9457) answers from the Flask test client."""

import json

PROBLEM = "application/problem+json"
PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


def assert_problem(response, status, kind, path=None):
    """The response is a complete problem document with this status, of this kind (any
    kind when None), about this URL (when a path is given). Returns the document."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == PROBLEM
    body = json.loads(response.data)
    assert PROBLEM_KEYS <= set(body), body
    assert body["type"] == f"/problems/{kind}" if kind else body["type"].startswith("/problems/")
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    if path is not None:
        assert body["instance"] == path
    return body


def problem_type(response):
    """The problem's type, once the answer is known to be problem+json."""
    assert response.headers["Content-Type"] == PROBLEM
    return response.json["type"]
