"""Both purchase paths for one test module: `from tests.support.paths import both_purchase_paths`
(noqa: F401) makes every test of that module that uses `live_server` run twice, against
the single-purchase server and against one with purchase batching forced on
(`batched_live_server` in conftest.py)."""

import pytest


@pytest.fixture(name="live_server", params=["single", "batched"])
def both_purchase_paths(request):
    return request.getfixturevalue(f"{request.param}_live_server")
