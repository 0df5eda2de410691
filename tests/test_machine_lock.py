"""One purchase statement per event per machine (PURCHASE_LOCK_FILE,
ticketing/orders/machine_lock.py): real processes taking real kernel locks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import pytest

from tests.support import ROOT
from ticketing.config import ConfigError, load_settings
from ticketing.orders.machine_lock import MachineLock

# Holds argv[2]'s lock in argv[1] for argv[3] seconds, saying "held" once it does.
HOLD = textwrap.dedent(
    """
    import sys, time
    from ticketing.orders.machine_lock import MachineLock

    with MachineLock(sys.argv[1]).held(sys.argv[2]) as locked:
        print("held" if locked else "not held", flush=True)
        time.sleep(float(sys.argv[3]))
    """
)


def python(code: str, *args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code, *map(str, args)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def holding(path, key, seconds) -> subprocess.Popen:
    process = python(HOLD, path, key, seconds)
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_process_waits_while_another_holds_the_same_event_and_only_then(tmp_path):
    path = tmp_path / "purchases.lock"
    holder = holding(path, "event-a", 2.0)
    lock = MachineLock(str(path))
    started = time.monotonic()
    with lock.held("event-b") as locked:
        other_event = time.monotonic() - started
        assert locked
    with lock.held("event-a") as locked:
        same_event = time.monotonic() - started
        assert locked
    holder.wait(10)
    assert other_event < 0.3
    assert same_event >= 1.0, f"took event-a after {same_event:.2f} s while another process held it"


def test_a_holder_killed_mid_batch_frees_the_event_at_once(tmp_path):
    """The kernel drops a dead process's locks: a worker SIGKILLed while its batch runs
    blocks no other worker."""
    path = tmp_path / "purchases.lock"
    holder = holding(path, "event-a", 600)
    started = time.monotonic()
    threading.Timer(0.3, holder.kill).start()
    with MachineLock(str(path)).held("event-a") as locked:
        waited = time.monotonic() - started
    holder.wait(10)
    assert locked
    assert 0.25 <= waited < 5


def test_a_forked_worker_takes_turns_with_the_process_it_was_forked_from(tmp_path):
    """gunicorn forks its workers from a master that may have used the lock: a child must
    not share its parent's open file (and with it the parent's locks)."""
    import os

    lock = MachineLock(str(tmp_path / "purchases.lock"))
    with lock.held("event-a"):
        pass  # the file is open in this process now
    held = os.pipe()
    child = os.fork()
    if child == 0:  # the worker: holds event-a for 0.8 s
        try:
            with lock.held("event-a"):
                os.write(held[1], b"1")
                time.sleep(0.8)
        finally:
            os._exit(0)
    assert os.read(held[0], 1) == b"1"
    started = time.monotonic()
    with lock.held("event-a") as locked:
        waited = time.monotonic() - started
    os.waitpid(child, 0)
    assert locked
    assert waited >= 0.4, f"took event-a after {waited:.2f} s while the forked worker held it"


# Holds argv[2]'s lock on one thread; once told to (a line on stdin), takes argv[3]'s on
# another while the first is still held (for 0.6 s more); prints whether it got it.
CROSSED = textwrap.dedent(
    """
    import sys, threading, time
    from ticketing.orders.machine_lock import MachineLock

    lock = MachineLock(sys.argv[1])
    holding, go = threading.Event(), threading.Event()

    def hold_mine():
        with lock.held(sys.argv[2]):
            holding.set()
            go.wait()
            time.sleep(0.6)

    thread = threading.Thread(target=hold_mine)
    thread.start()
    holding.wait()
    print("holding", flush=True)
    sys.stdin.readline()
    go.set()
    with lock.held(sys.argv[3]) as locked:
        print("took" if locked else "refused", flush=True)
    thread.join()
    """
)


def test_crossed_waits_of_two_processes_are_not_taken_for_a_deadlock(tmp_path):
    """Process A holds event 1 on one thread and waits for event 2 on another; process B
    the other way round. Neither is stuck (each holder lets go after its statement), and
    with locks owned by open files neither wait is refused: the kernel would refuse one
    with EDEADLK if the locks were the process's own (lockf)."""
    path = tmp_path / "purchases.lock"
    first, second = python(CROSSED, path, "event-1", "event-2"), python(CROSSED, path, "event-2", "event-1")
    for process in (first, second):
        assert process.stdout.readline().strip() == "holding"
    for process in (first, second):
        process.stdin.write("go\n")
        process.stdin.flush()
    answers = [process.stdout.readline().strip() for process in (first, second)]
    for process in (first, second):
        assert process.wait(10) == 0
    assert answers == ["took", "took"]


# One process's batcher: 8 buyers of one event, 3 purchases each, every statement a 40 ms
# sleep whose start and end go to argv[2]; the lock is argv[1] or none ("off"). It says
# "ready" and starts on a line from stdin, so that two processes run side by side.
BATCHES = textwrap.dedent(
    """
    import sys, threading, time
    from ticketing.orders.batching import Batcher
    from ticketing.orders.machine_lock import MachineLock

    path, out = sys.argv[1], sys.argv[2]
    batcher = Batcher(
        max_size=4, window_seconds=0, wait_seconds=10, settle_seconds=10, record=lambda size: None,
        machine_lock=None if path == "off" else MachineLock(path),
    )
    start = threading.Event()

    def statement(requests):
        began = time.time()
        time.sleep(0.04)
        with open(out, "a") as spans:
            spans.write(f"{began} {time.time()}\\n")
        return [None] * len(requests)

    def buyer(number):
        start.wait()
        for _ in range(3):
            batcher.submit("event", f"buyer-{number}", number, statement)

    threads = [threading.Thread(target=buyer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    print("ready", flush=True)
    sys.stdin.readline()
    start.set()
    for thread in threads:
        thread.join()
    """
)


def statement_spans(tmp_path, lock: str) -> list[list[tuple[float, float]]]:
    spans = [tmp_path / f"{lock.replace('/', '_')}-{n}.spans" for n in (1, 2)]
    processes = [python(BATCHES, lock, out) for out in spans]
    for process in processes:
        assert process.stdout.readline().strip() == "ready"
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    for process in processes:
        assert process.wait(60) == 0
    return [[tuple(map(float, line.split())) for line in out.read_text().splitlines()] for out in spans]


def overlaps(first, second) -> int:
    return sum(1 for a0, a1 in first for b0, b1 in second if a0 < b1 and b0 < a1)


def test_two_processes_batching_one_event_send_one_statement_at_a_time(tmp_path):
    """With the machine lock, the statements of two processes' batchers of one event never
    overlap; without it (the control, PURCHASE_LOCK_FILE=off) they do."""
    locked = statement_spans(tmp_path, str(tmp_path / "purchases.lock"))
    assert all(len(spans) >= 6 for spans in locked)  # 24 purchases, at most 4 a statement
    assert overlaps(*locked) == 0
    unlocked = statement_spans(tmp_path, "off")
    assert overlaps(*unlocked) > 0


def test_the_lock_file_setting():
    base = {"DATABASE_URL": "postgresql://ticketing@db.example.com/ticketing"}
    assert load_settings(base).purchase_lock_file.endswith("ticketing-purchases.lock")
    assert load_settings({**base, "PURCHASE_LOCK_FILE": "off"}).purchase_lock_file is None
    assert load_settings({**base, "PURCHASE_LOCK_FILE": str(ROOT / "x.lock")}).purchase_lock_file == str(
        ROOT / "x.lock"
    )
    for bad in ("relative.lock", "/no/such/folder/x.lock", str(ROOT)):
        with pytest.raises(ConfigError, match="PURCHASE_LOCK_FILE"):
            load_settings({**base, "PURCHASE_LOCK_FILE": bad})


def test_an_unusable_lock_file_leaves_batches_unlocked_not_failing(tmp_path):
    (tmp_path / "a-folder").mkdir()
    with MachineLock(str(tmp_path / "a-folder")).held("event-a") as locked:
        assert locked is False
    (tmp_path / "elsewhere").write_text("not ours")
    (tmp_path / "planted.lock").symlink_to(tmp_path / "elsewhere")  # a symlink in a shared /tmp
    with MachineLock(str(tmp_path / "planted.lock")).held("event-a") as locked:
        assert locked is False
    assert (tmp_path / "elsewhere").read_text() == "not ours"
