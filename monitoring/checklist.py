"""The elimination checklist (DOMAIN.md §5): a list of criterion functions named in settings.

`settings.FANPIN_ELIMINATION_CRITERIA` names them by dotted path, as Django names its
`AUTHENTICATION_BACKENDS`, so a layer built on the workflow (assistance: "at least one measure
carried out") adds its criterion without the workflow importing it. Each function takes the
case and the day the checklist is read for, and returns a `Criterion` with its figure, so the
page, the API and the refusal (409 `reasons`) say exactly what holds and what does not.

This module imports nothing of the workflow's models: the conditions on the transitions use it.
"""

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Criterion:
    """One elimination criterion as it stands: a stable `code` (the API exposes it), the Chinese
    `label`, whether it is `met`, and the `figure` it was judged on."""

    code: str
    label: str
    met: bool
    figure: str


# A criterion function: (case, day) -> Criterion. The case is a monitoring.models.MonitoringCase.
CriterionFunction = Callable[[Any, datetime.date], Criterion]


@lru_cache(maxsize=8)
def _load(paths: tuple[str, ...]) -> tuple[CriterionFunction, ...]:
    return tuple(import_string(path) for path in paths)


def criterion_functions() -> tuple[CriterionFunction, ...]:
    """The functions named in settings, imported once per distinct setting (cached)."""
    paths: Sequence[str] = getattr(settings, "FANPIN_ELIMINATION_CRITERIA", ())
    return _load(tuple(paths))


def elimination_checklist(case: Any, day: datetime.date | None = None) -> list[Criterion]:
    """Every criterion for the case, judged for `day` (today by default), in settings order."""
    day = day or timezone.localdate()
    return [check(case, day) for check in criterion_functions()]


def unmet(criteria: Sequence[Criterion]) -> list[Criterion]:
    return [c for c in criteria if not c.met]
