"""Tables of the project app (above every other): background exports (the ledger and the
monthly report of issue 11)."""

from django.conf import settings
from django.db import models
from django.utils import timezone


def export_path(job, filename):
    return timezone.now().strftime("exports/%Y/%m/") + filename


class ExportJob(models.Model):
    """One large export run by a Celery task: the list's filters (the query string), its
    progress, and the file when done, downloadable only by whoever asked for it."""

    class Kind(models.TextChoices):
        LEDGER = "ledger", "监测对象台账"

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "正在生成"
        DONE = "done", "已完成"
        FAILED = "failed", "生成失败"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="导出人", on_delete=models.PROTECT, related_name="export_jobs"
    )
    kind = models.CharField("导出内容", max_length=20, choices=Kind.choices, default=Kind.LEDGER)
    query = models.TextField("筛选条件（查询串）", blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField("总行数", default=0)
    rows_done = models.PositiveIntegerField("已写入行数", default=0)
    file = models.FileField("文件", upload_to=export_path, max_length=255, blank=True)
    error_message = models.TextField("失败原因", blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "导出任务"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.get_kind_display()}（{self.get_status_display()}）"

    @property
    def is_finished(self):
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self):
        if self.status == self.Status.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, int(self.rows_done * 100 / self.rows_total))


class DashboardSummary(models.Model):
    """The dashboard's figures for one scope (issue 15): the aggregates over the areas a set of
    roles covers, as of `refreshed_at`, so that the page reads one row instead of counting a
    county's cases and warnings on every visit, and users with the same scope share one count.
    `scope` is a digest of what the figures depend on (fanpin.reports.selectors.dashboard_scope:
    each role with its area, and the user for a contact person of cases outside them), so a
    user whose roles change reads another row at once, never the figures of a scope they left.
    Refreshed by a Celery beat task every few minutes (fanpin.refresh_dashboards), on demand
    from the page, and when older than FANPIN_DASHBOARD_MAX_AGE seconds or of another day;
    the page shows when it was counted."""

    scope = models.CharField("统计范围", max_length=64, unique=True)
    # Who counted them last: the beat task counts again as this user, while their scope is still this one.
    counted_for = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="统计用户",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    figures = models.JSONField("统计数据")
    as_of = models.DateField("统计日期")
    refreshed_at = models.DateTimeField("统计时间")

    class Meta:
        verbose_name = verbose_name_plural = "统计看板数据"

    def __str__(self):
        return f"{self.scope[:12]} · {self.refreshed_at:%Y-%m-%d %H:%M}"
