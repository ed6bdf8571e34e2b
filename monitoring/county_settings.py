"""Per-county rules with an effective date (DOMAIN.md §3: "thresholds, lines and step deadlines
are therefore settings with an effective date"), and the county's monitoring line per year.

A county's settings are a history of versions: each row says "from this day on". A change is a
new row dated today or later, never an edit of a row already in force, so a case keeps the
rules it ran under: `county_settings_on(county, day)` answers with the version in force on
`day`, and each rule reads it on its own day (README, "Monitoring cases"):

| rule | read on |
|---|---|
| determination deadline (days, working days) | the discovery date |
| notice length, working days, objection channel | the notice's start date |
| elimination notice length | the elimination notice's start date |
| visit interval (monthly, households living away) | the day of the last visit (or the determination) |
| months before elimination | the determination date |
| plan due days | the determination date |
| rejection notification (working days) | the day the case was rejected |
| re-report window | the day the earlier case was withdrawn |
| commitment kept on paper at the village | the day the commitment was signed |
| months of stable income | the day the criteria are checked |

This module stands below `monitoring.models` (which re-exports both models) so that the
conditions and criteria can read settings without importing the workflow's models.
"""

import datetime
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from households.models import Area

# The date of the settings a county had before settings were dated: in force since always.
ALWAYS = datetime.date(2000, 1, 1)


class CountySettings(models.Model):
    """One version of a county's workflow settings, in force from `effective_from` until the
    next version's date. Versions already in force are never edited (admin: read-only)."""

    county = models.ForeignKey(
        Area,
        verbose_name="县",
        on_delete=models.CASCADE,
        related_name="monitoring_settings",
        limit_choices_to={"level": Area.Level.COUNTY},
    )
    effective_from = models.DateField("生效日期", default=ALWAYS, help_text="自该日起适用；此前的案件仍按原设置")
    notice_days = models.PositiveSmallIntegerField("公示天数", default=5, validators=[MinValueValidator(1)])
    elimination_notice_days = models.PositiveSmallIntegerField(
        "风险消除公示天数", default=5, validators=[MinValueValidator(1)]
    )
    notice_in_working_days = models.BooleanField("公示期按工作日计算", default=False)
    determination_days = models.PositiveSmallIntegerField(
        "发现至认定时限（天）", default=15, validators=[MinValueValidator(1)]
    )
    determination_in_working_days = models.BooleanField("认定时限按工作日计算", default=False)
    visit_interval_days = models.PositiveSmallIntegerField(
        "监测对象走访间隔（天）", default=30, validators=[MinValueValidator(1)]
    )
    away_visit_interval_days = models.PositiveSmallIntegerField(
        "外出务工户走访间隔（天）",
        default=90,
        validators=[MinValueValidator(1)],
        help_text="常年外出务工的农户，按季度走访",
    )
    min_months_before_elimination = models.PositiveSmallIntegerField(
        "认定后至少监测月数", default=6, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    stable_income_months = models.PositiveSmallIntegerField(
        "收入稳定需连续月数",
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text="上一年度未高于监测线时，近若干个月的月度收入须全部高于监测线的月均值",
    )
    plan_due_days = models.PositiveSmallIntegerField(
        "认定后制定帮扶计划时限（天）", default=15, validators=[MinValueValidator(1)]
    )
    rejection_notice_workdays = models.PositiveSmallIntegerField(
        "不予纳入告知时限（工作日）", default=5, validators=[MinValueValidator(1)]
    )
    re_report_window_days = models.PositiveSmallIntegerField(
        "撤回后重新申报沿用原发现日期的期限（天）", default=90, validators=[MinValueValidator(1)]
    )
    commitment_paper_allowed = models.BooleanField(
        "承诺授权书可纸质留存村级", default=False, help_text="允许时可填写村级档案编号代替上传扫描件"
    )
    objection_channel = models.CharField(
        "异议受理渠道", max_length=200, default="公示期内如有异议，请向村委会或乡镇人民政府反映。"
    )
    created_at = models.DateTimeField("录入时间", default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )

    class Meta:
        verbose_name = verbose_name_plural = "县级监测设置"
        ordering = ["county", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "effective_from"],
                name="county_settings_one_per_day",
                violation_error_message="该县在这一天已有一版设置。",
            )
        ]

    def __str__(self):
        return f"{self.county} 监测设置（{self.effective_from} 起）"

    @property
    def in_force_since_always(self):
        return self.effective_from <= ALWAYS


# What a read-only request has read of the settings already (every county, every version),
# shared by every list, panel and deadline of the page (SettingsReadOnce); None outside one.
_read_once: ContextVar[dict[object, Any] | None] = ContextVar("fanpin_settings_read_once", default=None)


@contextmanager
def settings_read_once() -> Iterator[None]:
    """Within it, the counties and the settings versions are read at most once (a GET request:
    nothing in it changes the settings). Outside it every SettingsHistory reads afresh."""
    token = _read_once.set({})
    try:
        yield
    finally:
        _read_once.reset(token)


class SettingsReadOnce:
    """Middleware: a GET or HEAD request reads the county settings once, however many panels,
    lists and deadlines of the page ask for them (the inbox had one read per panel and one per
    overdue rejection notification)."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        if request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        with settings_read_once():
            return self.get_response(request)


def in_read_only_request() -> bool:
    """Within settings_read_once (a GET or HEAD request)."""
    return _read_once.get() is not None


def read_once(key: object, read: Callable[[], Any]) -> Any:
    """`read()`, once per read-only request for the same key (every time outside one)."""
    shared = _read_once.get()
    if shared is None:
        return read()
    if key not in shared:
        shared[key] = read()
    return shared[key]


def counties() -> list[Area]:
    """Every county (once per read-only request, with the settings and lines: _county_config)."""
    if _read_once.get() is not None:
        return list(_county_config()[0])
    return list(Area.objects.filter(level=Area.Level.COUNTY))


def _county_config() -> tuple[list[Area], dict[int, list[CountySettings]], dict[int, dict[int, Decimal]]]:
    """In a read-only request, every county with its settings versions (newest first) and its
    monitoring lines by year, in one query (the counties joined to both: a few rows a county),
    for every list, panel, deadline and line of the page: three queries before."""
    return read_once("county_config", _read_county_config)


def _read_county_config() -> tuple[list[Area], dict[int, list[CountySettings]], dict[int, dict[int, Decimal]]]:
    area_fields = [f.attname for f in Area._meta.concrete_fields]
    version_fields = [f.attname for f in CountySettings._meta.concrete_fields]
    rows = (
        Area.objects.filter(level=Area.Level.COUNTY)
        .order_by("path", "-monitoring_settings__effective_from", "monitoring_lines__year")
        .values_list(
            *area_fields,
            *(f"monitoring_settings__{f.name}" for f in CountySettings._meta.concrete_fields),
            "monitoring_lines__year",
            "monitoring_lines__amount",
        )
    )
    found: dict[int, Area] = {}
    versions: dict[int, dict[int, CountySettings]] = {}
    lines: dict[int, dict[int, Decimal]] = {}
    n_area, n_version = len(area_fields), len(version_fields)
    for row in rows:
        area_values, version_values = row[:n_area], row[n_area : n_area + n_version]
        year, amount = row[n_area + n_version :]
        county = found.get(area_values[0])
        if county is None:
            county = found[area_values[0]] = Area.from_db(Area.objects.db, area_fields, area_values)
            versions[county.pk], lines[county.pk] = {}, {}
        if version_values[0] is not None and version_values[0] not in versions[county.pk]:
            versions[county.pk][version_values[0]] = CountySettings.from_db(
                CountySettings.objects.db, version_fields, version_values
            )
        if year is not None:
            lines[county.pk][year] = amount
    return (
        list(found.values()),
        {pk: list(by_id.values()) for pk, by_id in versions.items() if by_id},
        lines,
    )


def county_settings_on(county: Area, day: datetime.date | None = None) -> CountySettings:
    """The county's settings in force on `day` (today when not given): the latest version dated
    on or before it, or the defaults (unsaved) when the county has none by then."""
    day = day or timezone.localdate()
    if _read_once.get() is not None:
        return SettingsHistory().on(county, day)
    found = CountySettings.objects.filter(county=county, effective_from__lte=day).order_by("-effective_from").first()
    return found or CountySettings(county=county, effective_from=ALWAYS)


def _read_versions() -> dict[int, list[CountySettings]]:
    versions: dict[int, list[CountySettings]] = {}
    for row in CountySettings.objects.order_by("county_id", "-effective_from"):
        versions.setdefault(row.county_id, []).append(row)
    return versions


class SettingsHistory:
    """Every county's settings versions, read in one query, answering `on(county, day)` for any
    number of cases (lists, deadlines in SQL)."""

    def __init__(self) -> None:
        self._versions: dict[int, list[CountySettings]] | None = None

    def _load(self) -> dict[int, list[CountySettings]]:
        if self._versions is None:
            self._versions = _county_config()[1] if _read_once.get() is not None else _read_versions()
        return self._versions

    def versions(self, county: Area) -> list[CountySettings]:
        """Newest first; always ends with a version in force since ALWAYS (defaults if needed)."""
        rows = self._load().get(county.pk, [])
        if not rows or rows[-1].effective_from > ALWAYS:
            rows = [*rows, CountySettings(county=county, effective_from=ALWAYS)]
        return rows

    def on(self, county: Area, day: datetime.date) -> CountySettings:
        return next(v for v in self.versions(county) if v.effective_from <= day)


class MonitoringLine(models.Model):
    """The county's monitoring line (防止返贫监测线) for a year, in yuan per person."""

    county = models.ForeignKey(
        Area,
        verbose_name="县",
        on_delete=models.CASCADE,
        related_name="monitoring_lines",
        limit_choices_to={"level": Area.Level.COUNTY},
    )
    year = models.PositiveSmallIntegerField("年度")
    amount = models.DecimalField("监测线（元/人·年）", max_digits=10, decimal_places=2)

    class Meta:
        verbose_name = verbose_name_plural = "监测线"
        ordering = ["county", "-year"]
        constraints = [models.UniqueConstraint(fields=["county", "year"], name="monitoring_line_per_year")]

    def __str__(self):
        return f"{self.county} {self.year}年 {self.amount}元"


def monitoring_lines(county: Area) -> dict[int, Decimal]:
    """The county's monitoring line by year, in one query (once per read-only request: the case
    page's incomes against the line and its elimination criteria both ask)."""
    if _read_once.get() is not None:
        return dict(_county_config()[2].get(county.pk, {}))
    return dict(MonitoringLine.objects.filter(county=county).order_by().values_list("year", "amount"))
