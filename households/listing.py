"""Sortable list pages: the column a user sorts by comes from ?sort=<key> (or -<key>), checked
against the list's own table of columns, so nothing but those orderings can reach the query."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Sorting:
    key: str
    descending: bool
    order_by: tuple[str, ...]


def sorting(request, columns, default):
    """The ordering asked for by ?sort=, or `default` ("key" or "-key") when absent or unknown.

    `columns` maps a key to the fields it orders by (ascending); a tie-breaking id ends every
    ordering so that pages never share or skip a row."""
    asked = request.GET.get("sort", "") or default
    key = asked.lstrip("-")
    if key not in columns:
        asked, key = default, default.lstrip("-")
    descending = asked.startswith("-")
    fields = tuple(f"-{f}" if descending else f for f in (*columns[key], "id"))
    return Sorting(key, descending, fields)
