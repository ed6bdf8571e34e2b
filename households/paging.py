"""Pages of long lists at county scale (issue 15).

A list page orders a scoped queryset and shows one page of it, each row annotated with
subqueries (head, size, latest income, special groups). Asked in one query, PostgreSQL plans
those subqueries for the whole scope it might read: at 100,000 households it answered the
special-group flags with hashed subplans, five sequential scans of the 350,000 members, for a
page of 20 (EXPLAIN ANALYZE: 1.4 s of 1.4 s, the same on page 1 and page 500). Here a page
is read in two steps:

1. the ids of the page, from the ordered queryset without its annotations (an index-only
   read of the (village, number) index for the household list, stopping at the page's end);
2. the annotated rows of those ids (the planner knows they are 20: one index probe per
   row and subquery), put back in the page's order.

So every page costs about what the first costs, plus skipping ids in an index for deep ones.
The paginator's count is the same narrow query's COUNT(*).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.paginator import Page, Paginator
from rest_framework import pagination


def _in_order(ids: Sequence[Any], rows: Iterable[Any]) -> list[Any]:
    by_id = {row.pk: row for row in rows}
    return [by_id[pk] for pk in ids if pk in by_id]


class TwoStepPaginator(Paginator):
    """A Paginator over an ordered, annotated queryset, each page read in two steps (its ids,
    then those rows). `rows`: the queryset the rows are read from, when the ordered one
    carries filters not worth repeating (default: the ordered queryset itself)."""

    def __init__(self, object_list: Any, per_page: int, *args: Any, rows: Any = None, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, *args, **kwargs)
        self.rows = rows

    def page(self, number: Any) -> Page[Any]:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        queryset: Any = self.object_list
        ids = list(queryset.values_list("pk", flat=True)[bottom : bottom + self.per_page])
        source = self.rows if self.rows is not None else queryset
        rows = source.order_by().filter(pk__in=ids) if ids else []
        return Page(_in_order(ids, rows), number, self)


class TwoStepPagination(pagination.PageNumberPagination):
    """The API's page-number pagination (same parameters as fanpin.api.Pagination), each page
    read in two steps."""

    django_paginator_class = TwoStepPaginator
    page_size_query_param = "page_size"
    max_page_size = 500
