"""GEODES's search: its body, the query operators, the sort and the page-number paging."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .config import COLLECTION
from .items import Plan

OPERATORS = ("eq", "neq", "in", "contains", "lte", "gte")


class BadSearch(Exception):
    """A search body the catalogue refuses (400)."""


@dataclass(frozen=True)
class Search:
    """What a search body asks: collections, query, sort, page and page size."""

    collections: Optional[List[str]]
    query: Dict[str, Dict[str, Any]]
    sort: List[Tuple[str, bool]]
    page: int
    limit: int


def parse_search(body: Any, default_limit: int, max_limit: int) -> Search:
    """Read a POSTed search body; the page size is capped at `max_limit`, as GEODES does."""
    if not isinstance(body, dict):
        raise BadSearch("the search body is not a JSON object")
    collections = body.get("collections")
    if collections is not None and not isinstance(collections, list):
        raise BadSearch("collections is not a list")
    query = body.get("query") or {}
    if not isinstance(query, dict) or not all(
            isinstance(ops, dict) and all(op in OPERATORS for op in ops)
            for ops in query.values()):
        raise BadSearch(f"query: each property takes operators among {', '.join(OPERATORS)}")
    page, limit = body.get("page", 1), body.get("limit", default_limit)
    if not isinstance(page, int) or page < 1 or not isinstance(limit, int) or limit < 1:
        raise BadSearch("page and limit are whole numbers from 1")
    return Search(collections, query, _sort(body.get("sortBy")), page, min(limit, max_limit))


def _sort(value: Any) -> List[Tuple[str, bool]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadSearch("sortBy is not a list")
    keys = []
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("field"), str):
            raise BadSearch("sortBy: each entry needs a field")
        keys.append((entry["field"], str(entry.get("direction", "asc")).lower() != "asc"))
    return keys


def found(search: Search, plans: Sequence[Plan]) -> List[Tuple[Dict[str, Any], Plan]]:
    """The plans a search finds, as (properties, plan) rows in the order it asks."""
    if search.collections is not None and COLLECTION not in search.collections:
        rows: List[Tuple[Dict[str, Any], Plan]] = []
    else:
        rows = [(plan.properties(), plan) for plan in plans]
        rows = [row for row in rows if matches(row[0], search.query)]
    sort_in_place(rows, search.sort)
    return rows


def matches(properties: Dict[str, Any], query: Dict[str, Dict[str, Any]]) -> bool:
    """True when the properties pass every operator of the query (absent: no match)."""
    for key, operators in query.items():
        if key not in properties:
            return False
        value = properties[key]
        for operator, wanted in operators.items():
            if not _passes(value, operator, wanted):
                return False
    return True


def _passes(value: Any, operator: str, wanted: Any) -> bool:
    if operator == "eq":
        return bool(value == wanted)
    if operator == "neq":
        return bool(value != wanted)
    if operator == "in":
        return isinstance(wanted, list) and value in wanted
    if operator == "contains":
        return str(wanted) in str(value)
    try:
        return bool(value <= wanted) if operator == "lte" else bool(value >= wanted)
    except TypeError:
        return False


def sort_in_place(rows: List[Tuple[Dict[str, Any], Any]], sort: List[Tuple[str, bool]]) -> None:
    """Sort (properties, thing) rows by each field of `sort`, the first field first."""
    for field_name, descending in reversed(sort):
        rows.sort(key=lambda row: str(row[0].get(field_name, "")), reverse=descending)


def page_of(items: List[Any], page: int, limit: int) -> List[Any]:
    """The items of page `page` (from 1) of `limit` items."""
    return items[(page - 1) * limit: page * limit]
