"""`flask loadtest verify`: after a load test, the invariants of the run's event, read from
the database the app is configured with (docs/load-testing.md)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ticketing.loadtest import repository

SHOWN = 20  # offending rows listed in the report


@dataclass
class Report:
    facts: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


def read_recorded_orders(path: Path) -> tuple[list[str], list[str]]:
    """(valid order ids, malformed lines) from a tool's orders file (one id per line)."""
    ids, bad = [], []
    if not path.exists():
        return ids, bad
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            ids.append(str(uuid.UUID(line)))
        except ValueError:
            bad.append(line)
    return ids, bad


def verify(event_id: str, *, recorded: list[str], malformed: list[str]) -> Report:
    report = Report()
    books = repository.event_books(event_id=event_id)
    if books is None:
        report.violations.append(f"event {event_id} does not exist in this database")
        return report
    taken, held, live = books["taken"], books["held_by_orders"], books["live_tickets"]
    report.facts.append(
        f"event {event_id}: capacity {books['capacity']}, remaining {books['remaining']},"
        f" taken {taken}, held by PENDING/PAID orders {held}, live tickets {live}"
    )
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(books["orders_by_status"].items())) or "none"
    report.facts.append(f"orders: {statuses}")
    if books["remaining"] < 0 or taken > books["capacity"]:
        report.violations.append(
            f"oversold: remaining is {books['remaining']} of capacity {books['capacity']}"
        )
    if taken != held:
        report.violations.append(
            f"capacity - remaining = {taken}, but PENDING/PAID orders hold {held} tickets"
        )
    if held != live:
        report.violations.append(f"PENDING/PAID orders hold {held} tickets, but {live} ticket rows are live")
    if live > books["capacity"]:
        report.violations.append(f"oversold: {live} live tickets for a capacity of {books['capacity']}")
    for kind in books["ticket_types"] or ():
        taken_of_type = kind["capacity"] - kind["remaining"]
        if kind["remaining"] < 0 or not (taken_of_type == kind["held_by_orders"] == kind["live_tickets"]):
            report.violations.append(
                f"ticket type {kind['name']!r}: capacity - remaining = {taken_of_type}, PENDING/PAID"
                f" orders hold {kind['held_by_orders']}, {kind['live_tickets']} ticket rows are live"
            )
    if books["orders_over_limit"]:
        report.violations.append(
            f"{books['orders_over_limit']} orders exceed max_per_order ({books['max_per_order']})"
        )
    if books["users_over_limit"]:
        report.violations.append(
            f"{books['users_over_limit']} buyers hold more than max_per_user ({books['max_per_user']})"
            " tickets in PENDING and PAID orders"
        )
    wrong = repository.orders_with_wrong_tickets(event_id=event_id, limit=SHOWN)
    for row in wrong:
        report.violations.append(
            f"order {row['id']} ({row['status']}, quantity {row['quantity']})"
            f" has {row['live_tickets']} live tickets"
        )

    check_waiting_room(event_id, report)

    # The same order may be recorded twice: a retried request with its Idempotency-Key is
    # answered with the first order again.
    report.facts.append(f"201s recorded by the load tool: {len(recorded)} ({len(set(recorded))} orders)")
    for line in malformed[:SHOWN]:
        report.violations.append(f"recorded order id is not a UUID: {line!r}")
    missing = repository.missing_orders(event_id=event_id, order_ids=sorted(set(recorded)))
    if missing:
        shown = ", ".join(str(row["id"]) for row in missing[:SHOWN])
        report.violations.append(f"{len(missing)} orders answered 201 are not orders of this event: {shown}")
    return report


def check_waiting_room(event_id: str, report: Report) -> None:
    """When the event has a waiting room: every order since it opened used a pass of its
    buyer, and every used pass bought one order, within its validity."""
    books = repository.queue_books(event_id=event_id, limit=SHOWN)
    if books is None or not books["queued"]:
        return
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(books["entries_by_status"].items())) or "none"
    report.facts.append(
        f"waiting room: {books['entries']} entries ({statuses}); orders since it opened"
        f" {books['orders']}, passes used {books['used_passes']}"
    )
    if books["buyers_without_pass"]:
        report.violations.append(
            f"{books['buyers_without_pass']} buyers have more orders than used passes (an order"
            f" without a pass): {', '.join(books['shown_without_pass'])}"
        )
    if books["buyers_with_unspent_pass"]:
        report.violations.append(
            f"{books['buyers_with_unspent_pass']} buyers have more used passes than orders (a pass"
            f" marked purchased without its order): {', '.join(books['shown_unspent_pass'])}"
        )
    if books["passes_on_several_entries"]:
        report.violations.append(f"{books['passes_on_several_entries']} passes are on more than one entry")
    if books["passes_used_out_of_time"]:
        report.violations.append(
            f"{books['passes_used_out_of_time']} passes were used before their admission"
            " or after they expired"
        )
