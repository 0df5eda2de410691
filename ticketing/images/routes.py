"""Event images: admins upload one per event; the app serves locally stored ones."""

from __future__ import annotations

from flask import current_app, request, send_file
from flask.views import MethodView
from flask_smorest.fields import Upload
from werkzeug.datastructures import CombinedMultiDict, FileStorage

from ticketing import security
from ticketing.api import Blueprint, JsonBodyParser, Schema
from ticketing.errors import (
    NOT_FOUND,
    PAYLOAD_TOO_LARGE,
    SERVICE_UNAVAILABLE,
    UNSUPPORTED_MEDIA_TYPE,
    ApiError,
)
from ticketing.events.schemas import EventOut
from ticketing.images import service, validation

# Room for the multipart framing around the file (boundaries, part headers).
MULTIPART_OVERHEAD = 64 * 1024


class UploadParser(JsonBodyParser):
    """multipart/form-data bodies up to IMAGE_MAX_BYTES (plus framing) for this route only;
    every other route keeps the global MAX_CONTENT_LENGTH."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**JsonBodyParser.DEFAULT_UNKNOWN_BY_LOCATION, "files": None}

    def load_files(self, req, schema):
        if req.mimetype != "multipart/form-data":
            raise ApiError(
                f"Send the image as multipart/form-data, not {req.mimetype or 'nothing'}",
                kind=UNSUPPORTED_MEDIA_TYPE,
            )
        # Flask reads the body lazily: raising the limit now, before the first read,
        # applies it to this request alone. Past it, reading the form raises 413.
        req.max_content_length = current_app.config["SETTINGS"].image_max_bytes + MULTIPART_OVERHEAD
        # Text fields too, so a field other than `image` is rejected like any unknown field.
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)


class ImageFile(Upload):
    default_error_messages = {"invalid": "Must be a file part of the multipart body."}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage):
            raise self.make_error("invalid")
        return value


class ImageUpload(Schema):
    image = ImageFile(
        required=True,
        metadata={"description": "PNG, JPEG or WebP, recognised from its bytes; at most IMAGE_MAX_BYTES"},
    )


blp = Blueprint("images", __name__, description="Event images: upload (admin) and download")
blp.ARGUMENTS_PARSER = UploadParser()

IMAGE_CONTENT = {
    content_type: {"schema": {"type": "string", "format": "binary"}}
    for content_type in validation.TYPES.values()
}


@blp.route("/events/<uuid:event_id>/image")
class EventImage(MethodView):
    @blp.auth(roles=security.ADMIN)
    @blp.arguments(ImageUpload, location="files")
    @blp.response(200, EventOut)
    @blp.problems(UNSUPPORTED_MEDIA_TYPE, PAYLOAD_TOO_LARGE, NOT_FOUND, SERVICE_UNAVAILABLE)
    def post(self, body, event_id):
        """Upload the event's image (admin), replacing any previous one

        A `multipart/form-data` body with one file part, `image`: a PNG, JPEG or WebP of at
        most IMAGE_MAX_BYTES (5 MiB by default). The type is read from the file's bytes;
        its filename and declared Content-Type are ignored, and anything else answers 415.
        The answer is the event with its new `image_url`; the image it replaces is deleted.
        """
        return service.upload(event_id, body["image"])


@blp.route("/images/<name>")
class StoredImage(MethodView):
    @blp.doc(
        responses={
            "200": {
                "description": "The image; cacheable for a year, as names are never reused",
                "content": IMAGE_CONTENT,
            },
            "304": {"description": "Not modified (`If-None-Match` / `If-Modified-Since`)"},
        }
    )
    @blp.problems(NOT_FOUND)
    def get(self, name):
        """An uploaded event image (local storage; with S3 the store serves them: 404)"""
        path, content_type = service.local_file(name)
        response = send_file(
            path,
            mimetype=content_type,
            conditional=False,
            etag=True,
            max_age=31536000,
        )
        response.cache_control.immutable = True
        response.headers["X-Content-Type-Options"] = "nosniff"
        # ETag and Last-Modified revalidation (304); no Range requests, so no 206/416.
        return response.make_conditional(request)
