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
class Prepared:
    """A query run as a server-side prepared statement: planned once per connection."""

    name: str  # the statement's name in PostgreSQL
    prepare_sql: str  # PREPARE name AS ... $1 ... (run once per connection)
    execute_sql: str  # EXECUTE name(%(a)s, ...) (psycopg2 form)


@dataclass(frozen=True)
class Query:
    name: str
    text: str  # psycopg2 form
    prepared: Prepared | None = None

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


# Sent with EXECUTE, in the same implicit transaction (one round trip), for statements that
# take arrays: PostgreSQL estimates a parameter's unnest() at 10 rows in the generic plan, so
# for batches smaller than that the custom plan always looks cheaper and it re-plans the
# whole statement on every execution (about 2 ms of CPU for sql/queue/join.sql on the 2-core
# bench machine, 4x what running it costs: docs/performance.md#generic-plans-for-batches).
GENERIC_PLAN = "SET LOCAL plan_cache_mode = force_generic_plan; "


def to_prepared(name: str, text: str, generic_plan: bool = False) -> Prepared:
    """PREPARE/EXECUTE statements for a file: placeholders become $1, $2... in order of
    first appearance; EXECUTE binds them by name, like every other query. `generic_plan`:
    every execution uses the plan made once (GENERIC_PLAN)."""
    names: list[str] = []

    def rewrite(token: re.Match) -> str:
        param, literal = token.groups()
        if param is None:
            return literal or ""
        if param not in names:
            names.append(param)
        return f"${names.index(param) + 1}"

    statement = "q_" + re.sub(r"\W", "_", name)
    body = _TOKEN.sub(rewrite, text).strip().rstrip(";")
    arguments = ", ".join(f"%({param})s" for param in names)
    execute = f"EXECUTE {statement}({arguments})"
    return Prepared(
        statement, f"PREPARE {statement} AS {body}", GENERIC_PLAN + execute if generic_plan else execute
    )


def to_pgbench(text: str, inline: dict[str, str] | None = None) -> str:
    """Rewrite psql `:'name'` placeholders into pgbench `:name` variables (comments dropped,
    so pgbench never binds a variable that only a comment mentions). Names in `inline` get
    that SQL text instead: pgbench cannot send NULL as a parameter, so NULLs go inline."""
    inline = inline or {}

    def rewrite(token: re.Match) -> str:
        param, literal = token.groups()
        if param is None:
            return literal or ""
        return inline.get(param, f":{param}")

    return _TOKEN.sub(rewrite, text)


def path_of(name: str) -> Path:
    return SQL_DIR / f"{name}.sql"


def load(name: str, prepare: bool = False, generic_plan: bool = False) -> Query:
    """The query in sql/<name>.sql; `prepare` runs it as a prepared statement (hot paths:
    PostgreSQL then plans it once per connection instead of on every call, as long as its
    generic plan does not look dearer than planning for the values at hand);
    `generic_plan` always uses the plan made once (batches: see GENERIC_PLAN)."""
    path = path_of(name)
    if not path.is_file():
        raise RuntimeError(f"missing SQL file {path} for query {name!r}")
    text = path.read_text()
    return Query(name, to_psycopg(text), to_prepared(name, text, generic_plan) if prepare else None)
