"""Assistance measures (一户一策, 缺什么补什么; DOMAIN.md §5)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from households.models import Department


class Measure(models.Model):
    class Type(models.TextChoices):
        INDUSTRY = "industry", "产业帮扶"
        EMPLOYMENT = "employment", "就业帮扶"
        PUBLIC_WELFARE_JOB = "public_job", "公益岗位"
        TRAINING = "training", "技能培训"
        MICRO_CREDIT = "micro_credit", "小额信贷"
        WORK_RELIEF = "work_relief", "以工代赈"
        DIBAO = "dibao", "低保"
        TEKUN = "tekun", "特困供养"
        TEMPORARY_RELIEF = "temporary_relief", "临时救助"
        MEDICAL_AID = "medical_aid", "医疗救助/医保资助"
        EDUCATION_AID = "education_aid", "教育资助"
        HOUSING = "housing", "危房改造"
        WATER = "water", "饮水保障"
        INSURANCE = "insurance", "防贫保险"
        SOCIAL_AID = "social_aid", "社会帮扶"
        MOTIVATION = "motivation", "扶志扶智"

    class Status(models.TextChoices):
        PLANNED = "planned", "计划中"
        IN_PROGRESS = "in_progress", "实施中"
        DONE = "done", "已完成"
        STOPPED = "stopped", "已终止"

    case = models.ForeignKey(
        "monitoring.MonitoringCase", verbose_name="监测对象", on_delete=models.CASCADE, related_name="measures"
    )
    measure_type = models.CharField("措施类型", max_length=30, choices=Type.choices)
    department = models.ForeignKey(
        Department, verbose_name="责任部门", null=True, blank=True, on_delete=models.SET_NULL
    )
    contact_person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="帮扶责任人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    starts_on = models.DateField("开始日期", null=True, blank=True)
    ends_on = models.DateField("结束日期", null=True, blank=True)
    amount = models.DecimalField("金额（元）", max_digits=12, decimal_places=2, null=True, blank=True)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.PLANNED)
    outcome = models.TextField("成效说明", blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "帮扶措施"
        ordering = ["case_id", "starts_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="measure_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True) | Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="measure_ends_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.get_measure_type_display()}（{self.get_status_display()}）"
