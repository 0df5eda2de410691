"""Page windows for the `list` SQL files, and the pages they return."""

# The `list` SQL files take OFFSET as a PostgreSQL integer. No table holds that many rows,
# so any page past it is empty, like every page past the last one.
MAX_OFFSET = 2**31 - 1


def page_window(pagination_parameters) -> dict:
    """LIMIT/OFFSET parameters for the `list` SQL files."""
    return {
        "limit": pagination_parameters.page_size,
        "offset": min(pagination_parameters.first_item, MAX_OFFSET),
    }


def page_items(rows: list[dict], pagination_parameters) -> list[dict]:
    """Rows of a `list` SQL file: every row carries `total`; an empty page is one null row."""
    pagination_parameters.item_count = rows[0]["total"] if rows else 0
    return [row for row in rows if row["id"] is not None]
