"""The HTTP layer every area shares, one module per seam: `fields` (Schema, Money, ...),
`problems` (the problem details schema), `parser` (JSON bodies), `blueprint` (Api and
Blueprint with auth and documented problems) and `pagination`. Import from here."""

from ticketing.api.blueprint import Api, Blueprint
from ticketing.api.fields import MONEY_PATTERN, Money, Schema, Trimmed, UtcDateTime
from ticketing.api.pagination import page_items, page_window
from ticketing.api.parser import JsonBodyParser
from ticketing.api.problems import ProblemSchema, problem_example

API_PREFIX = "/api/v1"

__all__ = [
    "API_PREFIX",
    "MONEY_PATTERN",
    "Api",
    "Blueprint",
    "JsonBodyParser",
    "Money",
    "ProblemSchema",
    "Schema",
    "Trimmed",
    "UtcDateTime",
    "page_items",
    "page_window",
    "problem_example",
]
