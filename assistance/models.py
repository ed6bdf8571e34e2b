"""Assistance (帮扶, 一户一策, 缺什么补什么; DOMAIN.md §5).

The measure catalogue (`MeasureType`) is data the county edits in the admin: adding a type
needs no code. A monitored case's plan is its measures; each change to a measure is a dated
`MeasureProgress` row (who, when, what changed) and an event on the case's timeline. Nothing
is deleted: a wrong measure is stopped with a reason.
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from households.models import Department
from monitoring.models import ProtectedRecord, RiskType


class MeasureType(models.Model):
    """One kind of measure the county offers, with the risks it answers (seed 004 §五)."""

    class Kind(models.TextChoices):
        DEVELOPMENTAL = "developmental", "开发式帮扶"
        SOCIAL_SECURITY = "social_security", "社会保障（兜底）"
        OTHER = "other", "其他"

    code = models.SlugField("代码", max_length=30, unique=True, help_text="英文代码，接口中使用，保存后不要修改")
    label = models.CharField("名称", max_length=50)
    kind = models.CharField("类别", max_length=20, choices=Kind.choices)
    risk_types = models.JSONField(
        "针对的风险类型",
        default=list,
        blank=True,
        help_text='风险类型代码列表，如 ["illness", "disability"]：'
        + "、".join(f"{code}={label}" for code, label in RiskType.choices),
    )
    department_kind = models.CharField(
        "通常责任部门", max_length=30, choices=Department.Kind.choices, blank=True, default=""
    )
    continues_after_elimination = models.BooleanField(
        "风险消除后可延续", default=False, help_text="如小额信贷至合同期满、公益岗位至协议期满、教育资助至学段结束"
    )
    continuation_note = models.CharField("延续说明", max_length=100, blank=True, help_text="如“至贷款合同期满”")
    sort_order = models.PositiveSmallIntegerField("排序", default=100)
    active = models.BooleanField("启用", default=True, help_text="停用后不再推荐、不能新增，已有措施不受影响")

    class Meta:
        verbose_name = verbose_name_plural = "帮扶措施类型"
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.label

    def clean(self):
        from django.core.exceptions import ValidationError

        known = set(RiskType.values)
        if not isinstance(self.risk_types, list) or any(r not in known for r in self.risk_types):
            raise ValidationError({"risk_types": "风险类型应为代码列表，可用代码：" + "、".join(sorted(known)) + "。"})

    def risk_labels(self):
        labels = dict(RiskType.choices)
        return [labels.get(r, r) for r in self.risk_types]


class Measure(ProtectedRecord):
    class Status(models.TextChoices):
        PLANNED = "planned", "计划中"
        IN_PROGRESS = "in_progress", "实施中"
        DONE = "done", "已完成"
        STOPPED = "stopped", "已终止"

    # A measure "carried out" for the elimination checklist (DOMAIN.md §5).
    CARRIED_OUT = (Status.IN_PROGRESS, Status.DONE)
    # Done and stopped are final: a measure done is history; a wrong one is stopped, not deleted.
    FINAL = (Status.DONE, Status.STOPPED)

    case = models.ForeignKey(
        "monitoring.MonitoringCase", verbose_name="监测对象", on_delete=models.PROTECT, related_name="measures"
    )
    measure_type = models.ForeignKey(
        MeasureType,
        verbose_name="措施类型",
        to_field="code",
        db_column="measure_type",
        on_delete=models.PROTECT,
        related_name="measures",
    )
    department = models.ForeignKey(Department, verbose_name="责任部门", null=True, blank=True, on_delete=models.PROTECT)
    contact_person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="帮扶责任人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assistance_measures",
    )
    starts_on = models.DateField("开始日期", default=timezone.localdate)
    ends_on = models.DateField("结束日期", null=True, blank=True)
    amount = models.DecimalField("金额（元）", max_digits=12, decimal_places=2, null=True, blank=True)
    funding_source = models.CharField("资金来源", max_length=100, blank=True)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.PLANNED)
    outcome = models.TextField("成效说明", blank=True)
    combination_reason = models.CharField(
        "叠加措施理由", max_length=200, blank=True, help_text="风险单一而安排多项措施时填写（防止福利陷阱）"
    )
    stop_reason = models.TextField("终止原因", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="录入人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("录入时间", default=timezone.now, editable=False)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "帮扶措施"
        ordering = ["case_id", "starts_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="measure_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="measure_ends_after_start",
            ),
            # A double submit (second tap, second tab) cannot plan the same measure twice.
            models.UniqueConstraint(
                fields=["case", "measure_type", "starts_on"],
                condition=~Q(status="stopped"),
                name="measure_once_per_type_and_start",
                violation_error_message="该户已有同一类型、同一开始日期的帮扶措施。",
            ),
        ]
        indexes = [models.Index(fields=["contact_person", "status"])]

    def __str__(self):
        return f"{self.measure_type.label}（{self.get_status_display()}）"

    @property
    def is_active(self):
        """Counts in the plan: planned, in progress or done (a stopped measure does not)."""
        return self.status != self.Status.STOPPED

    @property
    def is_final(self):
        return self.status in self.FINAL

    def continues_after(self, day: datetime.date) -> bool:
        """True when the measure runs on past `day` (e.g. the elimination date): a type that
        may continue, not finished, ending later or open-ended."""
        return (
            self.measure_type.continues_after_elimination
            and self.status in (self.Status.PLANNED, self.Status.IN_PROGRESS)
            and (self.ends_on is None or self.ends_on > day)
        )


class MeasureProgress(ProtectedRecord):
    """A dated note on a measure: who, when, what was done, what changed. Never edited."""

    measure = models.ForeignKey(Measure, verbose_name="帮扶措施", on_delete=models.PROTECT, related_name="progress")
    at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="记录人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField("进展情况")
    from_status = models.CharField("原状态", max_length=20, choices=Measure.Status.choices, blank=True)
    to_status = models.CharField("新状态", max_length=20, choices=Measure.Status.choices, blank=True)
    changes = models.JSONField("修改内容", default=dict, blank=True, help_text="{字段: [原值, 新值]}")

    class Meta:
        verbose_name = verbose_name_plural = "措施进展"
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.measure_id} {self.at:%Y-%m-%d}"
