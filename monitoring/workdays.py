"""Day counting for notices and deadlines, in calendar days or Chinese working days.

chinese_calendar only knows the holidays of the years its data covers; past that we count
Monday-Friday as working days and say so (the caller shows the note) instead of failing.
"""

import datetime
import functools
from dataclasses import dataclass

import chinese_calendar


@dataclass(frozen=True)
class DayCount:
    date: datetime.date
    note: str = ""


@functools.lru_cache(maxsize=4096)
def _is_workday(day):
    # Remembered: the calendar's data is fixed for the process, and chinese_calendar checks the
    # day against its whole range each time (~10 us; the inbox asked ~190 times a request).
    try:
        return chinese_calendar.is_workday(day), True
    except NotImplementedError:
        return day.weekday() < 5, False


def _fallback_note(year):
    return f"{year}年节假日安排尚未收录，按周一至周五计算工作日，请人工核对。"


def add_days(start: datetime.date, days: int, working_days: bool = False) -> DayCount:
    """The date `days` days after `start` (working days skip weekends and public holidays)."""
    if not working_days:
        return DayCount(start + datetime.timedelta(days=days))
    day, counted, exact = start, 0, True
    while counted < days:
        day += datetime.timedelta(days=1)
        workday, known = _is_workday(day)
        exact = exact and known
        if workday:
            counted += 1
    return DayCount(day, "" if exact else _fallback_note(day.year))


def period_end(start: datetime.date, days: int, working_days: bool = False) -> DayCount:
    """The last day of a period of `days` days that starts on `start` (a 5-day notice from
    Monday ends on Friday). In working days the start counts only if it is a working day:
    a notice put up on a Saturday still runs five full working days."""
    if days < 1:
        raise ValueError("a period lasts at least one day")
    if not working_days:
        return DayCount(start + datetime.timedelta(days=days - 1))
    workday, known = _is_workday(start)
    counted = add_days(start, days - 1 if workday else days, working_days=True)
    if known or counted.note:
        return counted
    return DayCount(counted.date, _fallback_note(start.year))


def days_between(start: datetime.date, end: datetime.date, working_days: bool = False) -> int:
    """Signed number of (working) days from start to end; negative when end is before start."""
    if not working_days:
        return (end - start).days
    sign = 1 if end >= start else -1
    lo, hi = (start, end) if sign == 1 else (end, start)
    count, day = 0, lo
    while day < hi:
        day += datetime.timedelta(days=1)
        if _is_workday(day)[0]:
            count += 1
    return sign * count
