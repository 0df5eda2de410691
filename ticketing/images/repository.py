from ticketing import db, sql

SET_IMAGE = sql.load("events/set_image")


def set_image(*, event_id, image_url: str, image_key: str) -> dict | None:
    """The updated event, with `old_image_key` (the object it replaces, or None); None if
    the event is unknown or deleted."""
    return db.current().one(SET_IMAGE, id=event_id, image_url=image_url, image_key=image_key)
