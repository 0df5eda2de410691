"""Event images: store the upload, point the event at it, and never leave an orphan or a
dangling URL behind (the stored file is discarded whenever the event cannot take it)."""

from __future__ import annotations

from flask import current_app
from werkzeug.datastructures import FileStorage

from ticketing.errors import NotFound
from ticketing.events import repository as events_repository
from ticketing.images import repository, storage, validation

NO_EVENT = "No event with this id"


def upload(event_id, upload: FileStorage) -> dict:
    """The event with its new `image_url`; the image it replaces is deleted."""
    image = validation.read_image(upload, current_app.config["SETTINGS"].image_max_bytes)
    if events_repository.get(event_id=event_id) is None:
        raise NotFound(NO_EVENT)
    name = validation.new_name(image.extension)
    url = storage.current().save(name, image.data, image.content_type)
    try:
        event = repository.set_image(event_id=event_id, image_url=url, image_key=name)
    except BaseException:
        storage.discard(name)
        raise
    if event is None:  # deleted since the check above
        storage.discard(name)
        raise NotFound(NO_EVENT)
    replaced = event.pop("old_image_key")
    if replaced:
        storage.discard(replaced)
    return event


def local_file(name: str):
    """The stored file to serve (local storage), with its content type; 404 if none."""
    path = storage.current().path(name)
    if path is None:
        raise NotFound("No image with this name")
    return path, validation.TYPES[path.suffix[1:]]
