"""'Act, then explain why nothing happened': the shape of every state change here.

Each change is one conditional SQL statement that does nothing when its conditions fail.
Only then is the current state read to pick the answer. The state can move between the
two statements (a payment lands, capacity comes back), so an explanation may find nothing
to object to: then the change is tried again, a bounded number of times.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ticketing.errors import ApiError

T = TypeVar("T")


def act_then_explain(
    act: Callable[[], T | None],
    explain: Callable[[], T | None],
    *,
    attempts: int,
    gave_up: Callable[[], ApiError],
) -> T:
    """`act()` returns its result, or None when it changed nothing. `explain()` then raises
    the error that says why, returns a result (the request needed no change after all),
    or returns None when the state moved on: act again. After `attempts`, `gave_up()`."""
    for _ in range(attempts):
        result = act()
        if result is not None:
            return result
        result = explain()
        if result is not None:
            return result
    raise gave_up()
