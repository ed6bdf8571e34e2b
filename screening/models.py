"""Department screening (部门筛查, DOMAIN.md §6): the files departments send, and the rows of
them matched to the registry, kept as the evidence a warning rule cites.

An upload's rows are written by chunks in parallel while the period's previous rows stay in
place; when every chunk is done, one transaction makes the upload the period's current one
(`is_current`, one per department and month, database-enforced) and deletes the previous
upload's rows. Readers take a period's rows through `ScreeningRow.objects.current()`, which
never sees a half-processed file.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from households.models import Area, Department, Household, Member


def screening_upload_path(upload: "ScreeningUpload", filename: str) -> str:
    # Grouped by month; the original name (kept in original_name) may repeat, storage makes it unique.
    return timezone.now().strftime("screening/%Y/%m/") + filename


class ScreeningUpload(models.Model):
    """One file of one department for one month. The file is kept for audit."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "正在处理"
        DONE = "done", "已完成"
        FAILED = "failed", "处理失败"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    department = models.ForeignKey(
        Department, verbose_name="部门", on_delete=models.PROTECT, related_name="screening_uploads"
    )
    period = models.DateField("数据月份", help_text="该月的第一天")
    file = models.FileField("上传的文件", upload_to=screening_upload_path, max_length=255)
    original_name = models.CharField("原文件名", max_length=255)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="上传人",
        null=True,
        blank=True,  # the management command
        on_delete=models.PROTECT,
        related_name="screening_uploads",
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    is_current = models.BooleanField("当前有效", default=False, help_text="该部门该月份的数据以此文件为准")
    attempt = models.PositiveSmallIntegerField("处理次数", default=0)
    file_format = models.CharField("文件格式", max_length=20, blank=True)
    sheet = models.CharField("工作表", max_length=100, blank=True)
    header_rows = models.CharField("表头所在行", max_length=20, blank=True)
    columns = models.JSONField("识别的列", default=list, blank=True)  # [[key, header text as in the file], …]
    notices = models.JSONField("提示", default=list, blank=True)
    rows_read = models.PositiveIntegerField("读取行数", default=0)
    rows_valid = models.PositiveIntegerField("有效行数", default=0)
    rows_invalid = models.PositiveIntegerField("错误行数", default=0)
    rows_matched = models.PositiveIntegerField("比对上的行数", default=0)
    rows_unmatched = models.PositiveIntegerField("未在登记册中的行数", default=0)
    rows_skipped = models.PositiveIntegerField("跳过的说明或合计行", default=0)
    chunks_total = models.PositiveIntegerField("分块数", default=0)
    progress = models.PositiveSmallIntegerField("进度", default=0)
    error_message = models.TextField("失败原因", blank=True)
    created_at = models.DateTimeField("上传时间", default=timezone.now)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    heartbeat_at = models.DateTimeField("最近进展", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "部门筛查上传"
        ordering = ["-created_at", "-pk"]
        constraints = [
            # The period's rows are those of exactly one upload.
            models.UniqueConstraint(
                fields=["department", "period"], condition=Q(is_current=True), name="screeningupload_one_current"
            ),
            # One file of a department and month at a time: a double submit, or a second file
            # while the first is processed, is refused (409) instead of racing it.
            models.UniqueConstraint(
                fields=["department", "period"],
                condition=Q(status__in=["queued", "running"]),
                name="screeningupload_one_active",
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="screeningupload_progress_max_100"),
        ]
        indexes = [models.Index(fields=["department", "-created_at"], name="screeningupload_dept_recent")]

    def __str__(self) -> str:
        return f"{self.department} {self.period_label} {self.original_name}"

    @property
    def period_label(self) -> str:
        return f"{self.period:%Y-%m}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class ScreeningChunk(models.Model):
    """One part of an upload's rows, processed by one task. The rows are grouped by ID number
    (every row of one person in one chunk), stored here by the task that read the file and
    dropped once the upload is finished."""

    upload = models.ForeignKey(ScreeningUpload, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    attempt = models.PositiveSmallIntegerField(default=0)
    payload = models.BinaryField(null=True)
    done = models.BooleanField(default=False)
    rows_read = models.PositiveIntegerField(default=0)
    rows_valid = models.PositiveIntegerField(default=0)
    rows_invalid = models.PositiveIntegerField(default=0)
    rows_matched = models.PositiveIntegerField(default=0)
    rows_skipped = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = "筛查分块"
        constraints = [models.UniqueConstraint(fields=["upload", "index"], name="screeningchunk_unique_index")]

    def __str__(self) -> str:
        return f"{self.upload_id}/{self.index}"


class ScreeningRowQuerySet(models.QuerySet["ScreeningRow"]):
    def current(self) -> "ScreeningRowQuerySet":
        """The rows of each department's current upload per month (never a file in progress)."""
        return self.filter(upload__is_current=True)

    def matched(self) -> "ScreeningRowQuerySet":
        return self.filter(member__isnull=False)

    def unmatched(self) -> "ScreeningRowQuerySet":
        """People in a department file but in no household of the county's registry."""
        return self.filter(member__isnull=True)


class ScreeningRow(models.Model):
    """One valid record of a department file: the evidence a warning rule cites. Matched rows
    carry the member, household, village and town; unmatched rows (the person is in no
    household of the department's county) are kept with member NULL, for the registration
    lead of the warnings."""

    # No database foreign-key constraints on the columns below: every row is written by one
    # INSERT … SELECT (screening.matching) that takes the upload and department from the locked
    # upload and the member, household, village and town from the join itself, so they cannot
    # dangle at write time; at a million rows per file, six constraint triggers per row would
    # double the time of the write. Django still applies on_delete when a row's target is deleted.
    upload = models.ForeignKey(ScreeningUpload, on_delete=models.CASCADE, related_name="rows", db_constraint=False)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    period = models.DateField("数据月份")
    chunk = models.PositiveIntegerField()
    row_number = models.PositiveIntegerField("文件行号")
    record_key = models.CharField(max_length=255)  # the ID number and the layout's key columns
    id_number = models.CharField("身份证号", max_length=18)
    name = models.CharField("姓名", max_length=100)
    name_differs = models.BooleanField("姓名与登记不符", default=False)
    member = models.ForeignKey(
        Member, null=True, on_delete=models.SET_NULL, related_name="screening_rows", db_constraint=False, db_index=False
    )
    household = models.ForeignKey(
        Household, null=True, on_delete=models.SET_NULL, related_name="screening_rows", db_constraint=False
    )
    village = models.ForeignKey(
        Area, null=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False, db_index=False
    )
    town = models.ForeignKey(
        Area, null=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False, db_index=False
    )
    # The layout's main figure, date and code (layouts.Layout.amount / event_date / code).
    amount = models.DecimalField("金额", max_digits=14, decimal_places=2, null=True)
    event_date = models.DateField("日期", null=True)
    code = models.CharField("类别", max_length=50, blank=True)
    data = models.JSONField("全部列", default=dict)  # key -> value as text (amounts "1234.50", dates ISO)

    objects = ScreeningRowQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "筛查比对记录"
        constraints = [
            # No record twice in one upload; with one current upload per department and month,
            # no record twice in a period.
            models.UniqueConstraint(fields=["upload", "record_key"], name="screeningrow_unique_record"),
        ]
        # Few indexes: each one is maintained for every row of a million-row file. The unique
        # constraint serves lookups by upload; the household FK has its own.
        indexes = [models.Index(fields=["department", "period"], name="screeningrow_dept_period")]

    def __str__(self) -> str:
        return f"{self.upload_id}:{self.row_number}"

    @property
    def matched(self) -> bool:
        return self.member_id is not None


class ScreeningBadRow(models.Model):
    """One reason a row of an upload was not accepted (a row may have several)."""

    upload = models.ForeignKey(ScreeningUpload, on_delete=models.CASCADE, related_name="bad_rows")
    chunk = models.IntegerField()  # -1: found while reading the whole file
    row = models.PositiveIntegerField("行号")
    column = models.CharField("列", max_length=100, blank=True)
    reason = models.CharField("原因", max_length=300)
    cells = models.JSONField("该行内容", default=list)

    class Meta:
        verbose_name = verbose_name_plural = "筛查错误行"
        ordering = ["row", "pk"]
        indexes = [models.Index(fields=["upload", "row"], name="screeningbadrow_upload_row")]

    def __str__(self) -> str:
        return f"第 {self.row} 行：{self.reason}"
