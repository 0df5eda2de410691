"""The database reads of `flask loadtest verify`; one SQL file each."""

from ticketing import db, sql

EVENT_BOOKS = sql.load("loadtest/event_books")
ORDERS_WITH_WRONG_TICKETS = sql.load("loadtest/orders_with_wrong_tickets")
MISSING_ORDERS = sql.load("loadtest/missing_orders")
QUEUE_BOOKS = sql.load("loadtest/queue_books")


def event_books(*, event_id) -> dict | None:
    return db.current().one(EVENT_BOOKS, event_id=event_id)


def orders_with_wrong_tickets(*, event_id, limit: int) -> list[dict]:
    return db.current().all(ORDERS_WITH_WRONG_TICKETS, event_id=event_id, limit=limit)


def missing_orders(*, event_id, order_ids: list[str]) -> list[dict]:
    return db.current().all(MISSING_ORDERS, event_id=event_id, order_ids=order_ids)


def queue_books(*, event_id, limit: int) -> dict | None:
    return db.current().one(QUEUE_BOOKS, event_id=event_id, limit=limit)
