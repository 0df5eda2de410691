"""Named SQL: the file `sql/<area>/<name>.sql` is the query `<area>/<name>`.

Files use psql's variable syntax, `:'name'`, so each runs as-is in psql
(`psql -v name=value -f sql/area/name.sql`). Loading rewrites the placeholders into
psycopg2's `%(name)s`, so values are always bound, never spliced. Repository modules
load their queries at import time: a missing file stops the app at start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
_PLACEHOLDER = re.compile(r"(?<!:):'([A-Za-z_][A-Za-z0-9_]*)'")
# What to_psycopg reads: a placeholder, a string literal (kept as is) or a `--` comment.
_TOKEN = re.compile(_PLACEHOLDER.pattern + r"|('(?:[^']|'')*')|--[^\n]*")


@dataclass(frozen=True)
class Query:
    name: str
    text: str  # psycopg2 form

    def __str__(self) -> str:
        return self.name


def to_psycopg(text: str) -> str:
    """Rewrite psql `:'name'` placeholders into psycopg2 `%(name)s` ones.

    Comments are dropped: psycopg2 would bind a placeholder in a comment too, and a value
    with a line break would then end the comment and run as SQL.
    """

    def rewrite(token: re.Match) -> str:
        name, literal = token.groups()
        return f"%({name})s" if name else literal or ""

    return _TOKEN.sub(rewrite, text.replace("%", "%%"))


def to_pgbench(text: str) -> str:
    """Rewrite psql `:'name'` placeholders into pgbench `:name` variables."""
    return _PLACEHOLDER.sub(r":\1", text)


def path_of(name: str) -> Path:
    return SQL_DIR / f"{name}.sql"


def load(name: str) -> Query:
    path = path_of(name)
    if not path.is_file():
        raise RuntimeError(f"missing SQL file {path} for query {name!r}")
    return Query(name, to_psycopg(path.read_text()))
