"""Monitoring cases (监测对象) and their workflow (DOMAIN.md §3-4).

The state graph lives here: `MonitoringCase.state` is a protected FSMField and only the
`@transition` methods below move it. Each transition declares who may take it
(`permission=`) and what must hold (`conditions=`); transition bodies set fields on the case
only. Services in `monitoring/services.py` wrap every transition in a locked, audited,
all-or-nothing action.
"""

import contextlib
import contextvars
import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from households.models import Area, Household

from . import permissions as perm
from .checklist import Criterion, elimination_checklist
from .conditions import (
    appraisal_recorded,
    category_problem,
    commitment_recorded,
    determination_checks_pass,
    elimination_criteria_met,
    has_labour_capacity,
    home_check_recorded,
    household_dissolved,
    no_open_objections,
    notice_period_over,
)

# Re-exported: the county's dated settings and monitoring lines are part of the workflow's models.
from .county_settings import CountySettings as CountySettings
from .county_settings import MonitoringLine as MonitoringLine

# Uploads are evidence (scans, minutes, photos); only document and image types are taken, so a
# file served back from our own origin can never be a page or a script.
IMAGE_EXTENSIONS = ["jpg", "jpeg", "png", "webp", "gif", "heic", "heif"]
DOCUMENT_EXTENSIONS = [*IMAGE_EXTENSIONS, "pdf", "doc", "docx", "xls", "xlsx", "wps", "ofd"]
INLINE_EXTENSIONS = {"jpg", "jpeg", "png", "webp", "gif", "pdf"}


def _extensions(allowed):
    return FileExtensionValidator(
        allowed, message="不支持该文件类型（%(extension)s），请上传：" + "、".join(allowed) + "。"
    )


validate_image = _extensions(IMAGE_EXTENSIONS)
validate_document = _extensions(DOCUMENT_EXTENSIONS)


# --- a case's record is never deleted ------------------------------------------------------

_purging = contextvars.ContextVar("monitoring_purging", default=False)


class RecordProtected(Exception):
    """A case's record (the case, its events, objections, visits) cannot be deleted (DOMAIN.md
    §3: "eliminated cases stay visible, marked, never deleted"; issue 7 point 4)."""


@contextlib.contextmanager
def purging_demo_records():
    """Let the demo county's records be deleted (`seed_demo --reset` only): nothing a user can
    reach opens this."""
    token = _purging.set(True)
    try:
        yield
    finally:
        _purging.reset(token)


def refuse_delete(model_label):
    if not _purging.get():
        raise RecordProtected(f"{model_label}是监测对象档案的一部分，不能删除。")


class RecordQuerySet(models.QuerySet):
    def delete(self):
        refuse_delete(self.model._meta.verbose_name)
        return super().delete()


class ProtectedRecord(models.Model):
    """Rows of a case's record: deleting one (or a queryset of them) raises RecordProtected."""

    objects = RecordQuerySet.as_manager()

    class Meta:
        abstract = True

    def delete(self, *args, **kwargs):
        refuse_delete(self._meta.verbose_name)
        return super().delete(*args, **kwargs)


def _check_dates(checks):
    """Each step's date lies between the dates it follows and today in the deployment's time
    zone (issue 7 point 2). `checks`: (form field, label, value, [(bound, bound label), ...]).
    Raises ValidationError keyed by the form field, in Chinese."""
    today = timezone.localdate()
    errors = {}
    for key, label, value, bounds in checks:
        if value is None:
            continue
        if value > today:
            errors[key] = f"{label}不能晚于今天。"
            continue
        for bound, bound_label in bounds:
            if bound is not None and value < bound:
                errors[key] = f"{label}不能早于{bound_label}（{bound}）。"
                break
    if errors:
        raise ValidationError(errors)


def _day_after(day):
    return day + datetime.timedelta(days=1) if day else None


class State(models.TextChoices):
    REPORTED = "reported", "已申报"
    VILLAGE_APPRAISAL = "village_appraisal", "村级评议"
    PUBLIC_NOTICE = "public_notice", "村级公示"
    TOWN_REVIEW = "town_review", "乡镇审核"
    COUNTY_REVIEW = "county_review", "县级审批"
    MONITORED = "monitored", "监测帮扶中"
    ELIMINATION_APPRAISAL = "elimination_appraisal", "风险消除评议"
    ELIMINATION_NOTICE = "elimination_notice", "风险消除公示"
    ELIMINATION_TOWN_REVIEW = "elimination_town_review", "乡镇验收"
    ELIMINATION_COUNTY_REVIEW = "elimination_county_review", "县级审定"
    ELIMINATED = "eliminated", "风险已消除"
    REJECTED = "rejected", "不予纳入"
    WITHDRAWN = "withdrawn", "已撤回"
    CLOSED = "closed", "自然减少"


IDENTIFICATION_STATES = [
    State.REPORTED,
    State.VILLAGE_APPRAISAL,
    State.PUBLIC_NOTICE,
    State.TOWN_REVIEW,
    State.COUNTY_REVIEW,
]
ELIMINATION_STATES = [
    State.ELIMINATION_APPRAISAL,
    State.ELIMINATION_NOTICE,
    State.ELIMINATION_TOWN_REVIEW,
    State.ELIMINATION_COUNTY_REVIEW,
]
ENDED_STATES = [State.ELIMINATED, State.REJECTED, State.WITHDRAWN, State.CLOSED]
OPEN_STATES = [*IDENTIFICATION_STATES, State.MONITORED, *ELIMINATION_STATES]


class Category(models.TextChoices):
    UNSTABLE = "unstable", "脱贫不稳定户"
    EDGE = "edge", "边缘易致贫户"
    SUDDEN = "sudden", "突发严重困难户"


class RiskType(models.TextChoices):
    ILLNESS = "illness", "因病"
    DISABILITY = "disability", "因残"
    EDUCATION = "education", "因学"
    DISASTER = "disaster", "因灾"
    ACCIDENT = "accident", "因意外事故"
    EMPLOYMENT = "employment", "因务工就业不稳"
    INDUSTRY = "industry", "因产业项目失败"
    LABOUR = "labour", "缺劳动力"
    HOUSING = "housing", "住房安全"
    WATER = "water", "饮水安全"
    LOAN = "loan", "小额贷款逾期"
    OTHER = "other", "其他"


class Channel(models.TextChoices):
    SELF_DECLARED = "self_declared", "农户自主申报"
    CADRE_VISIT = "cadre_visit", "干部走访排查"
    DEPARTMENT_WARNING = "department_warning", "部门筛查预警"
    PETITION = "petition", "舆情信访"
    PLATFORM_WARNING = "platform_warning", "平台预警"


class AppraisalResult(models.TextChoices):
    APPROVED = "approved", "同意纳入"
    REJECTED = "rejected", "不同意纳入"


class EliminationReason(models.TextChoices):
    STABLE = "stable", "帮扶后稳定消除"
    NATURAL = "natural", "风险自然消除"


class MonitoringCase(ConcurrentTransitionMixin, ProtectedRecord):
    household = models.ForeignKey(Household, verbose_name="农户", on_delete=models.PROTECT, related_name="cases")
    # The household's village, kept on the case (denormalised) so that every scoped case query
    # reads the (village, state) index instead of joining the county's households: the case
    # list's count, the inbox's panels (bench/README.md). Set when the case is saved first,
    # moved with its household (households_moved, FANPIN_HOUSEHOLDS_MOVED).
    village = models.ForeignKey(Area, verbose_name="村", on_delete=models.PROTECT, related_name="+", editable=False)
    state = FSMField("状态", default=State.REPORTED, choices=State.choices, protected=True, db_index=True)
    # The household's last visit (any visit of it, as the overdue-visit condition reads it),
    # kept by visit_create and set when the case starts: the inbox's 走访超期 panel reads it
    # from the index instead of a subquery per monitored case.
    last_visit_on = models.DateField("上次走访日期", null=True, blank=True, editable=False)

    # 申报
    channel = models.CharField("发现渠道", max_length=30, choices=Channel.choices)
    discovered_on = models.DateField("发现日期")
    reason = models.TextField("申报理由/风险情况")
    category = models.CharField("监测对象类别", max_length=20, choices=Category.choices, blank=True)
    primary_risk = models.CharField("主要风险类型", max_length=20, choices=RiskType.choices, blank=True)
    secondary_risks = models.JSONField("次要风险类型", default=list, blank=True)
    risk_note = models.CharField("其他风险说明", max_length=200, blank=True)
    contact_person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="帮扶联系人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact_cases",
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申报人", null=True, on_delete=models.SET_NULL, related_name="+"
    )

    # 入户核实 and 承诺授权
    home_check_on = models.DateField("入户核实日期", null=True, blank=True)
    home_checkers = models.CharField("核实人员", max_length=200, blank=True, help_text="至少两名干部，用顿号或逗号分隔")
    home_check_note = models.TextField("核实情况", blank=True)
    commitment_signed_on = models.DateField("承诺授权书签署日期", null=True, blank=True)
    commitment_scan = models.FileField(
        "承诺授权书扫描件", upload_to="commitments/%Y/%m/", blank=True, validators=[validate_document]
    )
    commitment_archive_ref = models.CharField(
        "承诺授权书村级档案编号", max_length=100, blank=True, help_text="县级设置允许纸质件留存村级时填写"
    )
    home_checker_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name="核实人员（系统用户）", blank=True, related_name="+"
    )

    # 民主评议 and 公示
    appraisal_on = models.DateField("评议日期", null=True, blank=True)
    appraisal_attendance = models.PositiveSmallIntegerField("参会人数", null=True, blank=True)
    appraisal_result = models.CharField("评议结果", max_length=20, choices=AppraisalResult.choices, blank=True)
    appraisal_minutes = models.TextField("评议记录", blank=True)
    notice_start = models.DateField("公示开始", null=True, blank=True)
    notice_end = models.DateField("公示结束", null=True, blank=True)

    # 审核、认定
    town_reviewed_on = models.DateField("乡镇审核日期", null=True, blank=True)
    town_review_note = models.TextField("乡镇审核意见", blank=True)
    determined_on = models.DateField("认定日期", null=True, blank=True)
    determination_recorded_on = models.DateField(
        "认定录入日期",
        null=True,
        blank=True,
        help_text="认定在系统中登记的日期；风险消除的监测期从认定日期和此日期中较晚者起算",
    )
    document_number = models.CharField("认定文号", max_length=100, blank=True)
    historical = models.BooleanField(
        "历史监测对象补录", default=False, help_text="系统启用前已认定的对象，由县级按原认定文号补录"
    )

    # 风险消除
    elimination_appraisal_on = models.DateField("消除评议日期", null=True, blank=True)
    elimination_notice_start = models.DateField("消除公示开始", null=True, blank=True)
    elimination_notice_end = models.DateField("消除公示结束", null=True, blank=True)
    elimination_accepted_on = models.DateField("乡镇验收日期", null=True, blank=True)
    eliminated_on = models.DateField("风险消除日期", null=True, blank=True)
    elimination_reason = models.CharField("风险消除方式", max_length=20, choices=EliminationReason.choices, blank=True)

    # 结束
    ended_on = models.DateField("结束日期", null=True, blank=True)
    end_reason = models.TextField("不予纳入/撤回/自然减少原因", blank=True)
    merged_into = models.ForeignKey(
        Household,
        verbose_name="并入农户",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="自然减少：该户并入的农户",
    )
    previous_case = models.ForeignKey(
        "self",
        verbose_name="原申报记录",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="re_reports",
        help_text="撤回后在期限内重新申报时，沿用其发现日期",
    )

    created_at = models.DateTimeField("创建时间", default=timezone.now, editable=False)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    # Not a field: the date of the step being taken, set by the service for the conditions
    # (monitoring.conditions.check_day); None when only showing what may be done.
    step_on: datetime.date | None = None

    class Meta:
        verbose_name = verbose_name_plural = "监测对象"
        ordering = ["-discovered_on", "-id"]
        constraints = [
            # One open case per household; a household may have many ended cases over the years.
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(state__in=OPEN_STATES),
                name="case_one_open_per_household",
                violation_error_message="该户已有进行中的监测对象记录，不能重复申报。",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "discovered_on"]),
            # Scoped by village first (the user's villages as ids), then the step or stage.
            models.Index(fields=["village", "state", "last_visit_on"], name="case_village_state_idx"),
            # The lists' order (newest discovery first; the inbox reads it backwards): a page
            # of 20 walks the index instead of sorting every case in scope (bench/README.md).
            models.Index(fields=["-discovered_on", "-id"], name="case_discovered_order_idx"),
            # 走访超期 lists the monitored cases unvisited longest first: walked in that order on
            # PostgreSQL (case_monitored_last_visit_idx, made by migration 0011: SQLite refuses
            # its NULLS FIRST), a panel of 51 reads about as many cases instead of every
            # monitored case in scope (the union of the inbox's panels 17 -> 6 ms, bench/README.md).
        ]

    def __str__(self):
        return f"{self.household.number} · {self.get_state_display()}"

    def save(self, *args, **kwargs):
        # Derived data (as Area.path is): a new case is in its household's village.
        if self.village_id is None and self.household_id is not None:
            self.village_id = self.household.village_id
        super().save(*args, **kwargs)

    @property
    def is_open(self):
        return self.state in OPEN_STATES

    @property
    def in_identification(self):
        return self.state in IDENTIFICATION_STATES

    def risk_types(self):
        """Primary first, then the secondary ones, as labels."""
        codes = ([self.primary_risk] if self.primary_risk else []) + [
            c for c in self.secondary_risks if c != self.primary_risk
        ]
        labels = dict(RiskType.choices)
        return [labels.get(c, c) for c in codes]

    def open_objection_count(self):
        return self.objections.filter(status=Objection.Status.OPEN, notice=self.state).count()

    @property
    def elimination_wait_from(self):
        """The elimination wait counts from the later of the determination date and the day the
        determination was recorded (issue 7 point 2: a determination back-dated today does not
        shorten it)."""
        if not self.determined_on:
            return None
        return max(self.determined_on, self.determination_recorded_on or self.determined_on)

    def elimination_criteria(self, today=None) -> list[Criterion]:
        """Each elimination criterion with its figure (DOMAIN.md §5), shown before proposing."""
        return elimination_checklist(self, today)

    def check_step_dates(self, name, kwargs):
        """Each step's date lies between the dates it follows (and the discovery) and today
        (issue 7 point 2): ValidationError keyed by the step form's field. The transitions call
        it, and the service before the conditions, so a wrong date is a 400 on its field."""
        _check_dates(self._step_date_checks(name, kwargs))

    def _step_date_checks(self, name, kw):
        found = self.discovered_on, "发现日期"
        if name == "start_appraisal":
            return [
                ("home_check_on", "入户核实日期", self.home_check_on, [found]),
                ("commitment_signed_on", "承诺授权书签署日期", self.commitment_signed_on, [found]),
            ]
        if name == "publish_notice":
            last_check = max(d for d in (self.home_check_on, self.commitment_signed_on, self.discovered_on) if d)
            checks = [("appraisal_on", "民主评议日期", self.appraisal_on, [(last_check, "入户核实及承诺书签署日期")])]
            if self.appraisal_result != AppraisalResult.REJECTED:
                checks.append(("notice_start", "公示开始日期", kw.get("start"), [(self.appraisal_on, "民主评议日期")]))
            return checks
        if name == "town_approve":
            return [("reviewed_on", "审核日期", kw["reviewed_on"], [(_day_after(self.notice_end), "公示期满后一日")])]
        if name == "county_approve":
            return [
                (
                    "determined_on",
                    "认定日期",
                    kw["determined_on"],
                    [found, (self.town_reviewed_on, "乡镇审核日期")],
                )
            ]
        if name == "propose_elimination":
            return [("appraisal_on", "消除评议日期", kw["appraisal_on"], [(self.determined_on, "认定日期")])]
        if name == "publish_elimination_notice":
            return [("notice_start", "公示开始日期", kw["start"], [(self.elimination_appraisal_on, "消除评议日期")])]
        if name == "town_accept_elimination":
            bound = _day_after(self.elimination_notice_end), "公示期满后一日"
            return [("reviewed_on", "验收日期", kw["accepted_on"], [bound])]
        if name == "county_approve_elimination":
            bound = self.elimination_accepted_on, "乡镇验收日期"
            return [("eliminated_on", "风险消除日期", kw["eliminated_on"], [bound])]
        return []

    # --- identification --------------------------------------------------------------

    @transition(
        field=state,
        source=State.REPORTED,
        target=State.VILLAGE_APPRAISAL,
        conditions=[home_check_recorded, commitment_recorded],
        permission=perm.village_cadre,
        custom={"label": "开始村级评议"},
    )
    def start_appraisal(self):
        """Home check (two different people) and the commitment & authorization are on record,
        dated between the discovery and today."""
        self.check_step_dates("start_appraisal", {})

    @transition(
        field=state,
        source=State.VILLAGE_APPRAISAL,
        target=RETURN_VALUE(State.PUBLIC_NOTICE, State.REJECTED),
        conditions=[appraisal_recorded],
        permission=perm.village_cadre,
        custom={"label": "发布公示"},
    )
    def publish_notice(self, *, start=None, end=None, reason=""):
        """Record the 民主评议. Positive: the notice goes out (starting no earlier than the
        appraisal). Negative: the case ends as 不予纳入 in the same step, keeping the appraisal's
        date, attendance and minutes (DOMAIN.md §3; issue 7 point 7)."""
        self.check_step_dates("publish_notice", {"start": start})
        if self.appraisal_result == AppraisalResult.REJECTED:
            self.end_reason = reason or self.appraisal_minutes
            self.ended_on = timezone.localdate()
            return State.REJECTED
        problem = category_problem(self.household, self.category)
        if problem:
            raise ValidationError({"category": problem})
        self.notice_start, self.notice_end = start, end
        return State.PUBLIC_NOTICE

    @transition(
        field=state,
        source=State.PUBLIC_NOTICE,
        target=State.TOWN_REVIEW,
        conditions=[notice_period_over, no_open_objections],
        permission=perm.village_cadre,
        custom={"label": "公示结束，报乡镇审核"},
    )
    def close_notice(self):
        pass

    @transition(
        field=state,
        source=State.PUBLIC_NOTICE,
        target=State.VILLAGE_APPRAISAL,
        permission=perm.village_cadre,
        custom={"label": "异议成立，退回重新核实", "internal": True},
    )
    def return_for_recheck(self):
        """An upheld objection during the notice sends the case back to the village."""
        self.notice_start = self.notice_end = None
        self.appraisal_result = ""

    @transition(
        field=state,
        source=State.TOWN_REVIEW,
        target=State.COUNTY_REVIEW,
        permission=perm.town_official,
        custom={"label": "乡镇审核通过"},
    )
    def town_approve(self, *, reviewed_on, note):
        self.check_step_dates("town_approve", {"reviewed_on": reviewed_on})
        self.town_reviewed_on, self.town_review_note = reviewed_on, note

    @transition(
        field=state,
        source=State.TOWN_REVIEW,
        target=State.VILLAGE_APPRAISAL,
        permission=perm.town_official,
        custom={"label": "退回村级"},
    )
    def town_return(self):
        self.notice_start = self.notice_end = None
        self.appraisal_result = ""

    @transition(
        field=state,
        source=State.COUNTY_REVIEW,
        target=State.MONITORED,
        conditions=[determination_checks_pass],
        permission=perm.county_officer,
        custom={"label": "县级认定"},
    )
    def county_approve(self, *, category, primary_risk, secondary_risks, determined_on, document_number):
        self.check_step_dates("county_approve", {"determined_on": determined_on})
        problem = category_problem(self.household, category)
        if problem:
            raise ValidationError({"category": problem})
        self.determination_recorded_on = timezone.localdate()
        self.category, self.primary_risk = category, primary_risk
        self.secondary_risks = [r for r in secondary_risks if r != primary_risk]
        self.determined_on, self.document_number = determined_on, document_number

    @transition(
        field=state,
        source=State.COUNTY_REVIEW,
        target=State.TOWN_REVIEW,
        permission=perm.county_officer,
        custom={"label": "退回乡镇"},
    )
    def county_return(self):
        pass

    # --- risk elimination ------------------------------------------------------------

    @transition(
        field=state,
        source=State.MONITORED,
        target=State.ELIMINATION_APPRAISAL,
        conditions=[has_labour_capacity, elimination_criteria_met],
        permission=perm.contact_or_village_cadre,
        custom={"label": "提出风险消除"},
    )
    def propose_elimination(self, *, appraisal_on):
        """Every criterion holds on the appraisal date (and at each later elimination step)."""
        self.check_step_dates("propose_elimination", {"appraisal_on": appraisal_on})
        self.elimination_appraisal_on = appraisal_on

    @transition(
        field=state,
        source=State.ELIMINATION_APPRAISAL,
        target=State.ELIMINATION_NOTICE,
        conditions=[has_labour_capacity, elimination_criteria_met],
        permission=perm.village_cadre,
        custom={"label": "发布风险消除公示"},
    )
    def publish_elimination_notice(self, *, start, end):
        self.check_step_dates("publish_elimination_notice", {"start": start})
        self.elimination_notice_start, self.elimination_notice_end = start, end

    @transition(
        field=state,
        source=State.ELIMINATION_NOTICE,
        target=State.ELIMINATION_TOWN_REVIEW,
        conditions=[notice_period_over, no_open_objections, has_labour_capacity, elimination_criteria_met],
        permission=perm.village_cadre,
        custom={"label": "公示结束，报乡镇验收"},
    )
    def close_elimination_notice(self):
        pass

    @transition(
        field=state,
        source=State.ELIMINATION_TOWN_REVIEW,
        target=State.ELIMINATION_COUNTY_REVIEW,
        conditions=[has_labour_capacity, elimination_criteria_met],
        permission=perm.town_official,
        custom={"label": "乡镇验收通过"},
    )
    def town_accept_elimination(self, *, accepted_on):
        self.check_step_dates("town_accept_elimination", {"accepted_on": accepted_on})
        self.elimination_accepted_on = accepted_on

    @transition(
        field=state,
        source=State.ELIMINATION_COUNTY_REVIEW,
        target=State.ELIMINATED,
        conditions=[has_labour_capacity, elimination_criteria_met],
        permission=perm.county_officer,
        custom={"label": "县级审定风险消除"},
    )
    def county_approve_elimination(self, *, eliminated_on, reason):
        self.check_step_dates("county_approve_elimination", {"eliminated_on": eliminated_on})
        self.eliminated_on, self.elimination_reason = eliminated_on, reason
        self.ended_on = eliminated_on

    @transition(
        field=state,
        source=ELIMINATION_STATES,
        target=State.MONITORED,
        permission=perm.elimination_step_actor,
        custom={"label": "退回继续监测"},
    )
    def elimination_return(self):
        self.elimination_notice_start = self.elimination_notice_end = None
        self.elimination_accepted_on = None

    # --- endings ---------------------------------------------------------------------

    @transition(
        field=state,
        source=IDENTIFICATION_STATES,
        target=State.REJECTED,
        permission=perm.identification_step_actor,
        custom={"label": "不予纳入"},
    )
    def reject(self, *, reason, on):
        self.end_reason, self.ended_on = reason, on

    @transition(
        field=state,
        source=IDENTIFICATION_STATES,
        target=State.WITHDRAWN,
        permission=perm.village_cadre,
        custom={"label": "撤回申报"},
    )
    def withdraw(self, *, reason, on):
        self.end_reason, self.ended_on = reason, on

    @transition(
        field=state,
        source=State.MONITORED,
        target=State.CLOSED,
        conditions=[household_dissolved],
        permission=perm.county_officer,
        custom={"label": "自然减少"},
    )
    def close(self, *, reason, on):
        """自然减少: only when registry facts dissolve the household (every member deceased or
        moved out, or the household merged into another, recorded as `merged_into`)."""
        self.end_reason, self.ended_on = reason, on

    @transition(
        field=state,
        source=State.REJECTED,
        target=RETURN_VALUE(*IDENTIFICATION_STATES),
        permission=perm.recheck_actor,
        custom={"label": "申请复核，重新审核", "internal": True},
    )
    def reopen_for_recheck(self, *, back_to):
        """A rejected household asked for a re-check (DOMAIN.md §3): the review opens again at
        the step that rejected it. Only rechecks.recheck_request_record takes it."""
        self.end_reason, self.ended_on = "", None
        return back_to


class Objection(ProtectedRecord):
    """An objection (异议) raised during a public notice."""

    class Status(models.TextChoices):
        OPEN = "open", "待处理"
        UPHELD = "upheld", "异议成立"
        DISMISSED = "dismissed", "异议不成立"

    case = models.ForeignKey(
        MonitoringCase, verbose_name="监测对象", on_delete=models.CASCADE, related_name="objections"
    )
    notice = models.CharField(
        "公示阶段",
        max_length=20,
        choices=[(State.PUBLIC_NOTICE, "纳入公示"), (State.ELIMINATION_NOTICE, "风险消除公示")],
    )
    raised_by = models.CharField("异议人", max_length=100, help_text="可填写“匿名”")
    raised_on = models.DateField("提出日期")
    content = models.TextField("异议内容")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField("处理结果", max_length=20, choices=Status.choices, default=Status.OPEN)
    resolution = models.TextField("核实情况", blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="处理人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField("处理时间", null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "异议"
        ordering = ["raised_on", "id"]

    def __str__(self):
        return f"{self.case_id} {self.get_status_display()}"


class CaseEvent(ProtectedRecord):
    """The audit trail: every transition and every recorded fact, never edited or deleted."""

    case = models.ForeignKey(MonitoringCase, on_delete=models.CASCADE, related_name="events")
    action = models.CharField("操作", max_length=50)
    label = models.CharField("操作名称", max_length=100)
    from_state = models.CharField("原状态", max_length=30, choices=State.choices, blank=True)
    to_state = models.CharField("新状态", max_length=30, choices=State.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    comment = models.TextField("意见/说明", blank=True)
    payload = models.JSONField("提交内容", default=dict, blank=True)
    attachment = models.FileField("附件", upload_to="case-events/%Y/%m/", blank=True, validators=[validate_document])

    class Meta:
        verbose_name = verbose_name_plural = "操作记录"
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.case_id} {self.label}"

    @property
    def is_transition(self):
        return bool(self.to_state) and self.to_state != self.from_state


class Visit(ProtectedRecord):
    """A home visit (走访记录). Starts from the household's last known state; photos and
    location are optional evidence, never required (DOMAIN.md §8)."""

    household = models.ForeignKey(Household, verbose_name="农户", on_delete=models.PROTECT, related_name="visits")
    case = models.ForeignKey(
        MonitoringCase, verbose_name="监测对象", null=True, blank=True, on_delete=models.SET_NULL, related_name="visits"
    )
    visited_on = models.DateField("走访日期")
    visitors = models.CharField("走访人员", max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="录入人", on_delete=models.PROTECT, related_name="+"
    )
    food_secure = models.BooleanField("吃不愁", default=True)
    clothing_secure = models.BooleanField("穿不愁", default=True)
    education_secure = models.BooleanField("义务教育有保障", default=True)
    medical_secure = models.BooleanField("基本医疗有保障", default=True)
    housing_secure = models.BooleanField("住房安全有保障", default=True)
    water_secure = models.BooleanField("饮水安全有保障", default=True)
    findings = models.TextField("走访情况", blank=True)
    income_change = models.DecimalField(
        "家庭收入变化（元/年，减少填负数）", max_digits=12, decimal_places=2, null=True, blank=True
    )
    new_risks = models.JSONField("新发现风险", default=list, blank=True)
    next_step = models.TextField("下一步措施", blank=True)
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    client_uuid = models.UUIDField(
        "离线提交标识", null=True, blank=True, unique=True, help_text="手机离线录入后同步时用于去重"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "走访记录"
        ordering = ["-visited_on", "-id"]
        indexes = [models.Index(fields=["household", "-visited_on"])]

    def __str__(self):
        return f"{self.household_id} {self.visited_on}"

    def new_risk_labels(self):
        labels = dict(RiskType.choices)
        return [labels.get(c, c) for c in self.new_risks]

    def problems(self):
        return [label for key, label in Household.SECURITY_ITEMS if not getattr(self, f"{key}_secure")]


class VisitPhoto(ProtectedRecord):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField("照片", upload_to="visits/%Y/%m/", validators=[validate_image])

    class Meta:
        verbose_name = verbose_name_plural = "走访照片"

    def __str__(self):
        return self.image.name


class RejectionNotification(models.Model):
    """How and when a rejected household was told (不予纳入告知): within the county's working
    days of the rejection (default 5), from the printable 告知书 giving the reason and the way to
    ask for a re-check. One per rejection: a case re-checked and rejected again is told again."""

    class Method(models.TextChoices):
        IN_PERSON = "in_person", "当面送达"
        PHONE = "phone", "电话告知"
        POST = "post", "邮寄送达"
        MESSAGE = "message", "短信/微信告知"
        OTHER = "other", "其他方式"

    case = models.ForeignKey(
        MonitoringCase, verbose_name="监测对象", on_delete=models.PROTECT, related_name="rejection_notifications"
    )
    rejected_on = models.DateField("不予纳入日期")
    notified_on = models.DateField("告知日期")
    method = models.CharField("告知方式", max_length=20, choices=Method.choices)
    recipient = models.CharField("被告知人", max_length=50, help_text="户主或家庭成员姓名")
    note = models.TextField("说明", blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("登记时间", default=timezone.now, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "不予纳入告知"
        ordering = ["-notified_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "rejected_on"],
                name="rejection_notified_once",
                violation_error_message="该次不予纳入已登记告知。",
            )
        ]

    def __str__(self):
        return f"{self.case_id} {self.notified_on} {self.get_method_display()}"


class RecheckRequest(models.Model):
    """A rejected household's request for a re-check (申请复核); recording it reopens the review."""

    case = models.ForeignKey(
        MonitoringCase, verbose_name="监测对象", on_delete=models.PROTECT, related_name="recheck_requests"
    )
    requested_on = models.DateField("申请日期")
    requested_by = models.CharField("申请人", max_length=50)
    content = models.TextField("复核理由")
    rejected_on = models.DateField("原不予纳入日期")
    reopened_at = models.CharField("重新审核环节", max_length=30, choices=State.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("登记时间", default=timezone.now, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "复核申请"
        ordering = ["-requested_on", "-id"]

    def __str__(self):
        return f"{self.case_id} {self.requested_on}"


# --- self-declarations (农户自主申报, issue 12) ---------------------------------------------


class Declaration(ProtectedRecord):
    """A household's own report of hardship (农户自主申报: the public page or app, the 12317
    hotline, the service window, the village WeChat group; seeds 000 and 004 §三(二)). It waits in
    its village's queue until a cadre links it to a household and starts a case from it, or closes
    it with a reason the declarer can look up. Kept for good, like a case's record."""

    class Source(models.TextChoices):
        ONLINE = "online", "手机/微信申报页面"
        HOTLINE = "hotline", "12317 热线"
        WINDOW = "window", "服务窗口"
        WECHAT_GROUP = "wechat_group", "村级微信群"

    class State(models.TextChoices):
        OPEN = "open", "待村里核实"
        CASE_STARTED = "case_started", "已受理，进入监测对象认定程序"
        CLOSED = "closed", "已办结"

    reference = models.CharField("申报编号", max_length=20, unique=True, editable=False)
    village = models.ForeignKey(
        "households.Area",
        verbose_name="所在村",
        on_delete=models.PROTECT,
        related_name="declarations",
        limit_choices_to={"level": "village"},
    )
    source = models.CharField("申报渠道", max_length=20, choices=Source.choices, default=Source.ONLINE)
    declared_on = models.DateField("申报日期")
    name = models.CharField("申报人姓名", max_length=50)
    id_number = models.CharField("身份证号", max_length=18, db_index=True)
    phone = models.CharField("联系电话", max_length=20)
    situation = models.TextField("家庭困难情况")
    risk_types = models.JSONField("困难类型", default=list, blank=True)
    state = models.CharField("办理状态", max_length=20, choices=State.choices, default=State.OPEN, db_index=True)
    # The same person's later declarations while one is open join it (grouped, counted once);
    # settling the first settles the group.
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name="同一申报人的首次申报",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
    )
    household = models.ForeignKey(
        Household, verbose_name="关联农户", null=True, blank=True, on_delete=models.PROTECT, related_name="declarations"
    )
    case = models.ForeignKey(
        MonitoringCase,
        verbose_name="监测对象记录",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="declarations",
    )
    closed_reason = models.TextField("办结原因", blank=True)
    closed_on = models.DateField("办结日期", null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="代为登记的干部",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="热线、窗口、微信群收到的申报由干部代为登记；农户自己在线提交的为空",
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="办理人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    client_uuid = models.UUIDField(
        "离线提交标识", null=True, blank=True, unique=True, help_text="手机离线录入后同步时用于去重"
    )
    created_at = models.DateTimeField("提交时间", default=timezone.now, editable=False)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "农户自主申报"
        ordering = ["-declared_on", "-id"]
        indexes = [models.Index(fields=["village", "state"]), models.Index(fields=["id_number", "state"])]

    def __str__(self):
        return f"{self.reference} {self.get_state_display()}"

    def risk_type_labels(self):
        labels = dict(RiskType.choices)
        return [labels.get(c, c) for c in self.risk_types]

    @property
    def is_open(self):
        return self.state == self.State.OPEN


class DeclarationPhoto(ProtectedRecord):
    declaration = models.ForeignKey(Declaration, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField("照片", upload_to="declarations/%Y/%m/", validators=[validate_image])

    class Meta:
        verbose_name = verbose_name_plural = "申报照片"

    def __str__(self):
        return self.image.name


class DeclarationEvent(ProtectedRecord):
    """The declaration's audit trail: received, linked, case started, closed (who, when, what)."""

    declaration = models.ForeignKey(Declaration, on_delete=models.CASCADE, related_name="events")
    action = models.CharField("操作", max_length=30)
    label = models.CharField("操作名称", max_length=100)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField("时间", default=timezone.now)
    comment = models.TextField("说明", blank=True)
    payload = models.JSONField("内容", default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "申报办理记录"
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.declaration_id} {self.label}"
