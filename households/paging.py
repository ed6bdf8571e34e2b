"""Pages of long lists at county scale (issue 15).

A list page orders a scoped queryset and shows one page of it, each row annotated with
subqueries (head, size, latest income, special groups). Asked in one query with OFFSET,
the database computes those subqueries for every row it skips as well: page 500 of the
household list did 10,000 rows' worth of them. Here a page is read in two steps:

1. the ids of the page, from the ordered queryset without its annotations (an index-only
   read of the (village, number) index for the household list);
2. the rows of those ids, annotated, put back in the page's order.

So page 500 costs what page 1 costs, plus skipping ids in an index. The paginator's count
is the same narrow query's COUNT(*). The first pages, where little is skipped, are read in
one query as before (TWO_STEPS_FROM).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.paginator import Page, Paginator
from rest_framework import pagination

# Rows skipped before a page from which it is read in two steps.
TWO_STEPS_FROM = 200


def _in_order(ids: Sequence[Any], rows: Iterable[Any]) -> list[Any]:
    by_id = {row.pk: row for row in rows}
    return [by_id[pk] for pk in ids if pk in by_id]


class TwoStepPaginator(Paginator):
    """A Paginator over an ordered, annotated queryset: deep pages are read in two steps
    (the page's ids, then those rows, filtered by id, put back in order)."""

    def page(self, number: Any) -> Page[Any]:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if bottom < TWO_STEPS_FROM:
            return super().page(number)
        queryset = self.object_list
        ids = list(queryset.values_list("pk", flat=True)[bottom : bottom + self.per_page])  # type: ignore[attr-defined]
        rows = queryset.order_by().filter(pk__in=ids) if ids else []  # type: ignore[attr-defined]
        return self._get_page(_in_order(ids, rows), number, self)


class TwoStepPagination(pagination.PageNumberPagination):
    """The API's page-number pagination (same parameters as fanpin.api.Pagination) with the
    two-step read of deep pages."""

    django_paginator_class = TwoStepPaginator
    page_size_query_param = "page_size"
    max_page_size = 500
