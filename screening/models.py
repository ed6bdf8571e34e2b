"""Department screening (部门筛查, DOMAIN.md §6): the files departments send, and the rows of
them matched to the registry, kept as the evidence a warning rule cites.

An upload's rows are written by chunks in parallel while the period's previous rows stay in
place; when every chunk is done, one transaction makes the upload the period's current one
(`is_current`, one per department and month, database-enforced) and deletes the previous
upload's rows. Readers take a period's rows through `ScreeningRow.objects.current()`, which
never sees a half-processed file.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from households.models import Area, Department, Household, Member

ALWAYS_DATE = datetime.date(2000, 1, 1)


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
    """One run of consecutive rows of an upload, processed by one task: a byte range of a text
    file, or the rows of a workbook read by the prepare task. Dropped once the upload is finished."""

    upload = models.ForeignKey(ScreeningUpload, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    attempt = models.PositiveSmallIntegerField(default=0)
    payload = models.BinaryField(null=True)  # the chunk's rows (services._chunk_rows), kept until finalize
    # Occurrences of records this chunk holds more than once or that another chunk wrote first,
    # settled across chunks by finalize (services.settle_duplicates).
    duplicates = models.BinaryField(null=True)
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
    # No index of its own: the unique (upload, record_key) constraint serves lookups by upload.
    upload = models.ForeignKey(
        ScreeningUpload, on_delete=models.CASCADE, related_name="rows", db_constraint=False, db_index=False
    )
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


# --- warnings (预警, issue 10) ----------------------------------------------------------------


class WarningSettings(models.Model):
    """One version of a county's warning thresholds, in force from `effective_from` until the
    next version's date (like monitoring's CountySettings). A rule reads the version in force
    on the first day of the period it runs for; a change is a new row, never an edit."""

    county = models.ForeignKey(
        Area,
        verbose_name="县",
        on_delete=models.CASCADE,
        related_name="warning_settings",
        limit_choices_to={"level": Area.Level.COUNTY},
    )
    effective_from = models.DateField("生效日期", default=ALWAYS_DATE, help_text="自该日起的数据月份适用")
    # 医保
    medical_share_monitored = models.PositiveSmallIntegerField(
        "医保：脱贫户和监测对象年度累计自付超过上年农村居民人均可支配收入的比例（%）", default=50
    )
    medical_share_other = models.PositiveSmallIntegerField(
        "医保：其他农村居民年度累计自付超过上年农村居民人均可支配收入的比例（%）", default=100
    )
    medical_annual_sum = models.DecimalField(
        "医保：年度累计自付超过固定金额（元，留空不用）", max_digits=12, decimal_places=2, null=True, blank=True
    )
    medical_stay_sum = models.DecimalField(
        "医保：单次住院自付超过（元，留空不用）", max_digits=12, decimal_places=2, null=True, blank=True,
        default=Decimal("10000"),
    )  # fmt: skip
    # 残联
    disability_recent_days = models.PositiveSmallIntegerField("残联：发证日期在数据月份前多少天内视为新增", default=365)
    # 应急
    disaster_loss_sum = models.DecimalField(
        "应急：受灾损失超过（元）", max_digits=12, decimal_places=2, default=Decimal("10000")
    )
    # 教育
    education_burden_stages = models.CharField(
        "教育：就学负担学段（顿号分隔，留空不用）", max_length=100, blank=True, default=""
    )
    # 人社
    employment_statuses = models.CharField(
        "人社：视为务工就业不稳的就业状态（顿号分隔）", max_length=100, default="失业、返乡"
    )
    # 金融
    loan_overdue_days = models.PositiveSmallIntegerField("金融：小额信贷逾期超过（天）", default=30)
    # 民政
    assistance_recent_days = models.PositiveSmallIntegerField(
        "民政：救助开始日期在数据月份前多少天内视为新增", default=90
    )
    registration_lead_kinds = models.CharField(
        "未登记人员线索：来自哪些部门的数据（部门代码，顿号分隔）",
        max_length=200,
        default="civil_affairs、disabled_federation",
        help_text="部门数据覆盖全县人口时（如医保），不宜逐人生成线索",
    )
    # 平台
    income_drop_share = models.PositiveSmallIntegerField("平台：人均纯收入比上年下降超过（%）", default=30)
    # 分级、下发、核实
    tier_escalate_days = models.PositiveSmallIntegerField(
        "预警未核实每满多少天升一级（黄→橙→红）", default=7, validators=[MinValueValidator(1)]
    )
    auto_dispatch = models.BooleanField("预警自动下发到村", default=True, help_text="否：由乡镇下发")
    town_confirms = models.BooleanField(
        "村级核实后须乡镇确认", default=False, help_text="是：村干部提交核实意见，由乡镇干部确认后生效"
    )
    # 规模性返贫风险
    scale_count = models.PositiveIntegerField("规模性风险：同一村镇同一风险同一月份预警户数达到", default=10)
    scale_share = models.PositiveSmallIntegerField("规模性风险：或占该村镇农户比例达到（%）", default=5)
    created_at = models.DateTimeField("录入时间", default=timezone.now, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "县级预警设置"
        ordering = ["county", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["county", "effective_from"], name="warning_settings_one_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.county} 预警设置（{self.effective_from} 起）"

    @staticmethod
    def words(text: str) -> list[str]:
        return [w.strip() for w in text.replace(",", "、").replace("，", "、").split("、") if w.strip()]


class RuralIncome(models.Model):
    """The previous-year rural per-capita disposable income the 医保 shares are of, per county
    and year (the province's or the county's published figure)."""

    county = models.ForeignKey(
        Area, verbose_name="县", on_delete=models.CASCADE, related_name="rural_incomes",
        limit_choices_to={"level": Area.Level.COUNTY},
    )  # fmt: skip
    year = models.PositiveSmallIntegerField("年度")
    amount = models.DecimalField("农村居民人均可支配收入（元）", max_digits=10, decimal_places=2)

    class Meta:
        verbose_name = verbose_name_plural = "农村居民人均可支配收入"
        ordering = ["county", "-year"]
        constraints = [models.UniqueConstraint(fields=["county", "year"], name="rural_income_per_year")]

    def __str__(self) -> str:
        return f"{self.county} {self.year}年 {self.amount}元"


class WarningState(models.TextChoices):
    NEW = "new", "待下发"
    DISPATCHED = "dispatched", "待核实"
    INCLUDED = "included", "已纳入"
    EXCLUDED = "excluded", "已排除"


class WarningRisk(models.TextChoices):
    """The monitoring risk types, plus the two leads that are not a risk of a case yet."""

    ILLNESS = "illness", "因病"
    DISABILITY = "disability", "因残"
    EDUCATION = "education", "因学"
    DISASTER = "disaster", "因灾"
    EMPLOYMENT = "employment", "因务工就业不稳"
    HOUSING = "housing", "住房安全"
    LOAN = "loan", "小额贷款逾期"
    INCOME = "income", "收入骤减或低于监测线"
    EXPENDITURE = "expenditure", "刚性支出过大"
    ASSISTANCE = "assistance", "新增低保特困对象复核"
    REGISTRATION = "registration", "未登记人员线索"


class Tier(models.TextChoices):
    RED = "red", "红色"
    ORANGE = "orange", "橙色"
    YELLOW = "yellow", "黄色"


TIER_RANK = {Tier.YELLOW: 1, Tier.ORANGE: 2, Tier.RED: 3}
RANK_TIER = {v: k for k, v in TIER_RANK.items()}


class RiskWarning(models.Model):
    """One warning per household, risk type and period (registration leads: per ID number).
    A second match adds its evidence; re-running never duplicates (database-enforced)."""

    county = models.ForeignKey(Area, verbose_name="县", on_delete=models.PROTECT, related_name="+")
    town = models.ForeignKey(Area, verbose_name="乡镇", null=True, on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(Area, verbose_name="村", null=True, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(
        Household, verbose_name="农户", null=True, on_delete=models.PROTECT, related_name="warnings"
    )
    id_number = models.CharField("身份证号（未登记人员）", max_length=18, blank=True)
    person_name = models.CharField("姓名（未登记人员）", max_length=100, blank=True)
    period = models.DateField("数据月份")
    risk_type = models.CharField("风险类型", max_length=20, choices=WarningRisk.choices)
    rule = models.CharField("触发规则", max_length=40)
    department = models.CharField("来源部门", max_length=30, help_text="部门类别，平台规则为 platform")
    severity = models.CharField("规则严重程度", max_length=10, choices=Tier.choices)
    figure = models.TextField("触发数据")
    evidence = models.JSONField("证据", default=list)
    uploads = models.JSONField("来源上传", default=list)  # upload ids the evidence came from
    state = models.CharField("状态", max_length=12, choices=WarningState.choices, default=WarningState.NEW)
    raised_on = models.DateField("预警日期", default=timezone.localdate)
    dispatched_at = models.DateTimeField("下发时间", null=True, blank=True)
    proposed_decision = models.CharField("村级核实意见", max_length=12, blank=True)
    proposed_reason = models.TextField("村级核实说明", blank=True)
    verified_at = models.DateTimeField("核实时间", null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="核实人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField("核实说明", blank=True)
    # The tier when it was verified: it stops rising with age then (issue 10: verified warnings
    # keep their tier).
    verified_tier = models.CharField("核实时的预警等级", max_length=10, choices=Tier.choices, blank=True)
    # Withdrawn: a re-upload replaced the period's rows and the warning's every finding was gone
    # while it was still unverified (not a fifth state: the state stays as it was, the warning
    # leaves the inbox and can no longer be verified; the evidence it had is kept in its events).
    withdrawn_at = models.DateTimeField("撤销时间", null=True, blank=True)
    withdrawn_reason = models.TextField("撤销原因", blank=True)
    case = models.ForeignKey(
        "monitoring.MonitoringCase", verbose_name="监测对象", null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("生成时间", default=timezone.now)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "预警"
        ordering = ["-raised_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "risk_type", "period"],
                condition=Q(household__isnull=False),
                name="warning_one_per_household_risk_period",
            ),
            models.UniqueConstraint(
                fields=["county", "id_number", "risk_type", "period"],
                condition=Q(household__isnull=True),
                name="warning_one_lead_per_person_period",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["included", "excluded"]) | Q(verified_at__isnull=False),
                name="warning_verified_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["county", "state", "raised_on"], name="warning_county_state"),
            models.Index(fields=["village", "state"], name="warning_village_state"),
            models.Index(fields=["town", "state"], name="warning_town_state"),
            # The inbox reads a page of one tier in age order (warning_selectors.tier_q).
            models.Index(fields=["county", "raised_on", "id"], name="warning_county_raised"),
            # Its counts by state and tier, grouped on the columns the tier is made of: read from
            # this index alone (warning_selectors.counts).
            models.Index(
                fields=["county", "state", "severity", "verified_tier", "raised_on"],
                condition=Q(withdrawn_at__isnull=True),
                name="warning_tier_counts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_risk_type_display()} {self.period:%Y-%m} #{self.pk}"

    @property
    def is_open_state(self) -> bool:
        return self.state in (WarningState.NEW, WarningState.DISPATCHED)

    @property
    def is_open(self) -> bool:
        """Waiting for verification: new or dispatched, and not withdrawn."""
        return self.state in (WarningState.NEW, WarningState.DISPATCHED) and self.withdrawn_at is None


class WarningEvent(models.Model):
    """The audit trail of a warning: raised, evidence added, dispatched, verified."""

    warning = models.ForeignKey(RiskWarning, on_delete=models.CASCADE, related_name="events")
    action = models.CharField("操作", max_length=30)
    label = models.CharField("操作名称", max_length=100)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField("时间", default=timezone.now)
    comment = models.TextField("说明", blank=True)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "预警操作记录"
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.warning_id} {self.label}"


class ScaleAlert(models.Model):
    """规模性返贫风险: many warnings of one risk type in one village or town in one period,
    raised once for that area, risk and period."""

    county = models.ForeignKey(Area, verbose_name="县", on_delete=models.PROTECT, related_name="+")
    area = models.ForeignKey(Area, verbose_name="村或乡镇", on_delete=models.PROTECT, related_name="+")
    risk_type = models.CharField("风险类型", max_length=20, choices=WarningRisk.choices)
    period = models.DateField("数据月份")
    households = models.PositiveIntegerField("预警户数")
    total_households = models.PositiveIntegerField("该地农户数")
    threshold = models.CharField("触发条件", max_length=200)
    raised_at = models.DateTimeField("生成时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "规模性返贫风险预警"
        ordering = ["-period", "-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["area", "risk_type", "period"], name="scale_alert_once_per_area_risk_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.area} {self.get_risk_type_display()} {self.period:%Y-%m}"


# --- the asset cross-check (信息比对, issue 10 point 9) ------------------------------------------


class AssetComparison(models.Model):
    """The county's recorded result of the asset cross-check for one case under identification:
    what the county officer concluded, with a note, and the findings and lists it was judged on.
    Append-only: a new recording (after a new list arrived, say) is a new row; the latest counts.
    A finding is never a rejection by itself: people judge it, and this is where they say so."""

    class Result(models.TextChoices):
        NONE_FOUND = "none_found", "未发现财产信息"
        FOUND = "found", "发现财产信息"
        NO_LISTS = "no_lists", "未收到比对数据"

    case = models.ForeignKey(
        "monitoring.MonitoringCase", verbose_name="监测对象", on_delete=models.PROTECT, related_name="+"
    )
    result = models.CharField("比对结果", max_length=12, choices=Result.choices)
    note = models.TextField("说明", blank=True)
    findings = models.JSONField("比对发现", default=list, blank=True)  # the findings as shown when recorded
    lists = models.JSONField("已收到的比对数据", default=list, blank=True)  # [{department, label, period, upload}]
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="记录人", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("记录时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "信息比对结果"
        ordering = ["-recorded_at", "-pk"]
        indexes = [models.Index(fields=["case", "-recorded_at"], name="assetcomparison_case_recent")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_result_display()}"
