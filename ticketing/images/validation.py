"""What an uploaded image is, decided from its bytes, and the names it is stored under.

The filename and the declared Content-Type of an upload are never trusted: the type comes
from the file's magic number, and the stored name is generated here.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from ticketing.errors import PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, ApiError

# extension -> Content-Type
TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}

# A stored image's name: the only form GET /images/<name> and the image_key column accept.
NAME = re.compile(r"^[0-9a-f]{32}\.(png|jpg|webp)$")


@dataclass(frozen=True)
class Image:
    data: bytes
    extension: str

    @property
    def content_type(self) -> str:
        return TYPES[self.extension]


def sniff(data: bytes) -> str | None:
    """The extension of a PNG, JPEG or WebP file, from its first bytes; None otherwise."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def read_image(upload, max_bytes: int) -> Image:
    """The uploaded file's bytes, if it is a PNG, JPEG or WebP of at most `max_bytes`."""
    data = upload.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ApiError(f"The image is larger than {max_bytes} bytes", kind=PAYLOAD_TOO_LARGE)
    extension = sniff(data)
    if extension is None:
        raise ApiError("The image must be a PNG, JPEG or WebP file", kind=UNSUPPORTED_MEDIA_TYPE)
    return Image(data, extension)


def new_name(extension: str) -> str:
    """A fresh, unguessable name: every upload is a new object, so URLs never change meaning."""
    return f"{uuid.uuid4().hex}.{extension}"


def is_name(name: str) -> bool:
    return NAME.fullmatch(name) is not None
