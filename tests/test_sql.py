"""Named SQL files: placeholder rewriting, loading, and no dead files."""

import re
from pathlib import Path

import pytest

from ticketing import sql

PACKAGE = Path(sql.__file__).resolve().parent
ROOT = PACKAGE.parent
LOAD_CALL = re.compile(r"""sql\.load\(\s*["']([^"']+)["']\s*[,)]""")  # also sql.load("a/b", prepare=True)
# Checks that only tests or the benchmark run (invariants) read a file by its path.
PATH_CALL = re.compile(r"""path_of\(\s*["']([^"']+)["']\s*\)""")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("SELECT :'name'", "SELECT %(name)s"),
        ("WHERE id = :'id'::uuid", "WHERE id = %(id)s::uuid"),
        ("LIMIT :'limit'::int OFFSET :'offset'::int", "LIMIT %(limit)s::int OFFSET %(offset)s::int"),
        ("SELECT :'a', :'a', :'b_2'", "SELECT %(a)s, %(a)s, %(b_2)s"),
        ("SELECT x::int, 'y'::text, now()::date", "SELECT x::int, 'y'::text, now()::date"),
        ("WHERE name LIKE 'a%' AND pct = 5 % 2", "WHERE name LIKE 'a%%' AND pct = 5 %% 2"),
        ("WHERE name LIKE :'pattern' || '%'", "WHERE name LIKE %(pattern)s || '%%'"),
        ("SELECT '100%'::text, :'v'::numeric", "SELECT '100%%'::text, %(v)s::numeric"),
        ("SELECT ':'::text", "SELECT ':'::text"),
        ('SELECT :name, :"ident"', 'SELECT :name, :"ident"'),  # only :'name' is a bound value
        ("-- uses :'v', it's 5%\nSELECT :'v' -- :'w'\n", "\nSELECT %(v)s \n"),  # comments dropped
        ("SELECT '--', :'v', 'a''--b'", "SELECT '--', %(v)s, 'a''--b'"),  # `--` in a literal
    ],
)
def test_to_psycopg(text, expected):
    assert sql.to_psycopg(text) == expected


def test_to_psycopg_binds_values_safely(sql_session):
    """The rewritten text really works with psycopg2, '%' and casts included."""
    text = sql.to_psycopg("SELECT :'v'::int + 1 AS n, 'a%b' AS pct, :'s' || '%' AS s")
    row = sql_session.one(text, {"v": 41, "s": "x'; DROP TABLE users; --"})
    assert row == {"n": 42, "pct": "a%b", "s": "x'; DROP TABLE users; --%"}


def test_a_placeholder_in_a_comment_is_never_bound(sql_session):
    """psycopg2 binds placeholders in comments too: a line break in the value would end the
    comment and run the rest as SQL (GET /users?email=... found it)."""
    text = sql.to_psycopg("-- rows matching :'v'\nSELECT :'v' AS v")
    value = "x\n'; SELECT 1/0; --"
    assert sql_session.one(text, {"v": value}) == {"v": value}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("SELECT :'name'", "SELECT :name"),
        ("WHERE id = :'id'::uuid", "WHERE id = :id::uuid"),
        ("SELECT x::int", "SELECT x::int"),
        ("WHERE name LIKE 'a%'", "WHERE name LIKE 'a%'"),  # pgbench does not use %
    ],
)
def test_to_pgbench(text, expected):
    assert sql.to_pgbench(text) == expected


def test_load_returns_a_named_query():
    query = sql.load("users/get")
    assert query.name == "users/get" and str(query) == "users/get"
    assert "%(id)s::uuid" in query.text and ":'id'" not in query.text


def test_load_of_a_missing_name_raises_at_call_time():
    with pytest.raises(RuntimeError, match="no_such_query"):
        sql.load("users/no_such_query")
    with pytest.raises(RuntimeError):
        sql.load("no_such_area/get")


def _loaded_names():
    """{query name: module} for every `sql.load("area/name")` in the ticketing package."""
    names = {}
    for module in PACKAGE.rglob("*.py"):
        for name in LOAD_CALL.findall(module.read_text()):
            names.setdefault(name, module.relative_to(ROOT))
    return names


def _names_read_by_tests_or_bench():
    names = set()
    for folder in ("tests", "bench"):
        for module in (ROOT / folder).rglob("*.py"):
            if module.resolve() != Path(__file__).resolve():
                names.update(PATH_CALL.findall(module.read_text()))
    return names


def _sql_files():
    return sorted(sql.SQL_DIR.glob("*/*.sql"))


def test_every_sql_file_is_loaded_by_some_module():
    """No dead SQL: the app loads each file (or, for invariant checks, a test or the bench)."""
    loaded = set(_loaded_names()) | _names_read_by_tests_or_bench()
    files = _sql_files()
    assert files and loaded
    dead = [
        str(path.relative_to(sql.SQL_DIR))
        for path in files
        if f"{path.parent.name}/{path.stem}" not in loaded
    ]
    assert not dead, f"SQL files no module loads: {dead}"


def test_every_loaded_name_has_a_file():
    missing = {
        name: str(module) for name, module in _loaded_names().items() if not sql.path_of(name).is_file()
    }
    assert not missing


@pytest.mark.parametrize("path", _sql_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_sql_file_binds_with_psycopg2(sql_session, path):
    """No stray '%' or malformed placeholder: psycopg2 can bind every file's parameters."""
    query = sql.load(f"{path.parent.name}/{path.stem}")
    names = set(re.findall(r"%\((\w+)\)s", query.text))
    with sql_session.conn.cursor() as cur:
        bound = cur.mogrify(query.text, {name: None for name in names}).decode()
    assert "%(" not in bound and ":'" not in bound


def test_to_prepared_numbers_parameters_by_first_appearance():
    from ticketing.sql import to_prepared

    prepared = to_prepared("orders/x", "-- uses :'b'\nSELECT :'b'::int + :'a'::int, ':''lit''', :'b'::int;\n")
    assert prepared.name == "q_orders_x"
    assert prepared.prepare_sql == "PREPARE q_orders_x AS SELECT $1::int + $2::int, ':''lit''', $1::int"
    assert prepared.execute_sql == "EXECUTE q_orders_x(%(b)s, %(a)s)"


def test_prepared_purchase_runs_like_the_plain_one(app, make_event, buyer, sql):
    """The hot purchase is a prepared statement: prepared once per connection, then reused."""
    from ticketing import db
    from ticketing.orders import repository

    assert repository.PURCHASE.prepared is not None
    event = make_event(capacity=5)
    with app.app_context():
        database = db.current()
        for _ in range(3):
            order = repository.purchase(
                user_id=buyer["id"], token_version=0, event_id=event["id"], quantity=1, hold_seconds=900
            )
            assert order["quantity"] == 1
        with database.connection() as conn:
            assert repository.PURCHASE.prepared.name in conn.prepared
    names = sql.all("SELECT name FROM pg_prepared_statements")  # another session: sees none
    assert names == []
    assert sql.value("SELECT remaining FROM events WHERE id = %s", (event["id"],)) == 2


def test_to_pgbench_inlines_nulls_and_drops_comments():
    from ticketing.sql import to_pgbench

    text = "-- :'c' only in a comment\nSELECT :'a'::int, :'b'::text;"
    assert to_pgbench(text, inline={"b": "NULL"}) == "\nSELECT :a::int, NULL::text;"


def test_to_prepared_can_always_run_the_generic_plan():
    from ticketing.sql import to_prepared

    prepared = to_prepared("queue/x", "SELECT :'a'::int[]", generic_plan=True)
    assert prepared.execute_sql == "SET LOCAL plan_cache_mode = force_generic_plan; EXECUTE q_queue_x(%(a)s)"
