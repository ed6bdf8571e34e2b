"""API shapes for monitoring cases, objections and visits.

Serializers here only describe and render; the request data of every write is validated by
the same Django form the page uses (monitoring.forms) and handed to monitoring.services, so
the page and the API ask for exactly the same things and say the same thing when it is
missing. Case lists read the annotations added by `annotate_head` and the relations in
selectors.LIST_RELATED, and compute deadlines through the SettingsCache in the context, so a
page of any length costs the same number of queries. No full ID number or phone is ever
shown here (DOMAIN.md §9)."""

import datetime

from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fanpin.api import ReadOnlyBlankChoicesMixin
from households import idnumber
from households.models import Household, Member

from . import forms, selectors, services
from .models import (
    CaseEvent,
    Category,
    Channel,
    EliminationReason,
    MonitoringCase,
    Objection,
    RiskType,
    State,
    Visit,
)


def annotate_head(queryset):
    """The head's name and ID number in the same query as the cases (the ID is only ever
    shown masked)."""
    head = Member.objects.filter(
        household=OuterRef("household"), relation=Member.Relation.HEAD, status=Member.Status.ACTIVE
    )
    return queryset.annotate(
        head_name=Subquery(head.values("name")[:1]), head_id_number=Subquery(head.values("id_number")[:1])
    )


def person_name(user):
    if user is None:
        return None
    return user.get_full_name() or user.username


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()

    def to_representation(self, user):
        return {"id": user.pk, "username": user.username, "name": person_name(user)}


def _file_url(request, field, route, *args):
    """The scoped view that serves an uploaded file (media is never served directly: every
    file is personal data and checked against the caller's scope when fetched)."""
    if not field:
        return None
    url = reverse(route, args=args)
    return request.build_absolute_uri(url) if request is not None else url


class HouseholdSummarySerializer(serializers.Serializer):
    """The household as a case shows it: where it is and who heads it, ID masked."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    village = serializers.IntegerField()
    village_name = serializers.CharField()
    town = serializers.IntegerField()
    town_name = serializers.CharField()
    county_name = serializers.CharField()
    head_name = serializers.CharField(allow_null=True)
    head_masked_id = serializers.CharField()

    def to_representation(self, case):
        household = case.household
        village = household.village
        town = village.parent
        return {
            "id": household.pk,
            "number": household.number,
            "village": village.pk,
            "village_name": village.name,
            "town": town.pk if town else None,
            "town_name": town.name if town else "",
            "county_name": village.county.name,
            "head_name": getattr(case, "head_name", None),
            "head_masked_id": idnumber.mask(getattr(case, "head_id_number", None) or ""),
        }


class CaseListSerializer(ReadOnlyBlankChoicesMixin, serializers.ModelSerializer):
    """A case in a list or the inbox, with its deadline (days left while in identification)."""

    state_label = serializers.CharField(source="get_state_display", read_only=True)
    household = serializers.SerializerMethodField()
    channel_label = serializers.CharField(source="get_channel_display", read_only=True)
    category_label = serializers.CharField(source="get_category_display", read_only=True)
    risk_labels = serializers.SerializerMethodField(help_text="风险类型名称，主要风险在前")
    contact_person = serializers.SerializerMethodField()
    deadline = serializers.SerializerMethodField(help_text="县级认定时限（识别阶段以外为空）")
    days_left = serializers.SerializerMethodField(help_text="距认定时限剩余天数，负数为已超期；识别阶段以外为空")
    deadline_note = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = MonitoringCase
        fields = [
            "id",
            "state",
            "state_label",
            "household",
            "channel",
            "channel_label",
            "discovered_on",
            "category",
            "category_label",
            "primary_risk",
            "secondary_risks",
            "risk_labels",
            "contact_person",
            "deadline",
            "days_left",
            "deadline_note",
            "overdue",
            "determined_on",
            "ended_on",
            "updated_at",
        ]
        read_only_fields = fields

    def _deadline(self, case):
        # Computed once per case per request; the cache in the context holds county settings.
        memo = self.context.setdefault("_deadlines", {})
        if case.pk not in memo:
            cache = self.context.setdefault("settings_cache", selectors.SettingsCache())
            memo[case.pk] = selectors.deadline(case, cache)
        return memo[case.pk]

    @extend_schema_field(HouseholdSummarySerializer)
    def get_household(self, case):
        return HouseholdSummarySerializer(case).data

    def get_risk_labels(self, case) -> list[str]:
        return case.risk_types()

    @extend_schema_field(PersonSerializer(allow_null=True))
    def get_contact_person(self, case):
        return PersonSerializer(case.contact_person).data if case.contact_person else None

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_deadline(self, case):
        found = self._deadline(case)
        return found.date.isoformat() if found else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_days_left(self, case):
        found = self._deadline(case)
        return found.days_left if found else None

    def get_deadline_note(self, case) -> str:
        found = self._deadline(case)
        return found.note if found else ""

    def get_overdue(self, case) -> bool:
        found = self._deadline(case)
        return bool(found and found.overdue)


class OverdueVisitSerializer(CaseListSerializer):
    """A monitored case whose visit is overdue: when it was last visited and when the next visit
    was due (the county's interval in force on the day of the last visit or determination)."""

    last_visit_on = serializers.DateField(allow_null=True, read_only=True, help_text="上次走访日期（无则为空）")
    visit_due_on = serializers.SerializerMethodField(help_text="应走访日期")
    days_overdue = serializers.SerializerMethodField(help_text="已超过应走访日期的天数")

    class Meta(CaseListSerializer.Meta):
        fields = [*CaseListSerializer.Meta.fields, "last_visit_on", "visit_due_on", "days_overdue"]
        read_only_fields = fields

    def _due(self, case):
        cache = self.context.setdefault("settings_cache", selectors.SettingsCache())
        interval = cache.on_for(case, case.visit_since).visit_interval_days
        return case.visit_since + datetime.timedelta(days=interval)

    @extend_schema_field(serializers.DateField())
    def get_visit_due_on(self, case):
        return self._due(case).isoformat()

    def get_days_overdue(self, case) -> int:
        return (timezone.localdate() - self._due(case)).days


class ActionSerializer(serializers.Serializer):
    """A step the caller may take on the case, enabled now or with the reasons it is not yet."""

    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label: DRF pops it
    enabled = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())


class ObjectionSerializer(ReadOnlyBlankChoicesMixin, serializers.ModelSerializer):
    notice_label = serializers.CharField(source="get_notice_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    recorded_by = PersonSerializer(read_only=True)
    resolved_by = PersonSerializer(read_only=True, allow_null=True)
    case_state = serializers.CharField(source="case.state", read_only=True)
    case_state_label = serializers.CharField(source="case.get_state_display", read_only=True)

    class Meta:
        model = Objection
        fields = [
            "id",
            "case",
            "notice",
            "notice_label",
            "raised_by",
            "raised_on",
            "content",
            "status",
            "status_label",
            "resolution",
            "recorded_by",
            "resolved_by",
            "resolved_at",
            "created_at",
            "case_state",
            "case_state_label",
        ]
        read_only_fields = fields


class ObjectionCreateSerializer(serializers.Serializer):
    """Request body of an objection (validated by monitoring.forms.ObjectionForm)."""

    raised_by = serializers.CharField(max_length=100, help_text="异议人，可填写“匿名”")
    raised_on = serializers.DateField(required=False, help_text="提出日期，默认今天")
    content = serializers.CharField(help_text="异议内容")


class ObjectionResolveSerializer(serializers.Serializer):
    upheld = serializers.BooleanField(help_text="true：异议成立，退回重新核实；false：异议不成立")
    resolution = serializers.CharField(help_text="核实情况")


class VisitSerializer(ReadOnlyBlankChoicesMixin, serializers.ModelSerializer):
    recorded_by = PersonSerializer(read_only=True)
    household_number = serializers.CharField(source="household.number", read_only=True)
    new_risk_labels = serializers.ListField(child=serializers.CharField(), read_only=True)
    problems = serializers.ListField(child=serializers.CharField(), read_only=True, help_text="走访发现未保障的项目")
    photos = serializers.SerializerMethodField()

    class Meta:
        model = Visit
        fields = [
            "id",
            "household",
            "household_number",
            "case",
            "visited_on",
            "visitors",
            "recorded_by",
            *[f"{key}_secure" for key, _ in Household.SECURITY_ITEMS],
            "problems",
            "findings",
            "income_change",
            "new_risks",
            "new_risk_labels",
            "next_step",
            "latitude",
            "longitude",
            "client_uuid",
            "photos",
            "created_at",
        ]
        read_only_fields = fields

    def get_photos(self, visit) -> list[str]:
        request = self.context.get("request")
        return [_file_url(request, p.image, "monitoring:visit-photo", p.pk) for p in visit.photos.all()]


class VisitCreateSerializer(serializers.Serializer):
    """Request body of a visit (validated by monitoring.forms.VisitForm, as on the phone page).

    Any 两不愁三保障 item left out keeps the household's last known state, so only changes
    need sending. Photos (multipart) and location are optional evidence, never required."""

    household = serializers.IntegerField(help_text="农户 id")
    visited_on = serializers.DateField(required=False, help_text="走访日期，默认今天")
    visitors = serializers.CharField(max_length=200)
    food_secure = serializers.BooleanField(required=False)
    clothing_secure = serializers.BooleanField(required=False)
    education_secure = serializers.BooleanField(required=False)
    medical_secure = serializers.BooleanField(required=False)
    housing_secure = serializers.BooleanField(required=False)
    water_secure = serializers.BooleanField(required=False)
    findings = serializers.CharField(required=False, allow_blank=True)
    income_change = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True)
    new_risks = serializers.ListField(child=serializers.ChoiceField(choices=RiskType.choices), required=False)
    next_step = serializers.CharField(required=False, allow_blank=True)
    latitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        required=False,
        allow_null=True,
        min_value=-90,
        max_value=90,
        help_text="纬度（可选）",
    )
    longitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        required=False,
        allow_null=True,
        min_value=-180,
        max_value=180,
        help_text="经度（可选）",
    )
    client_uuid = serializers.UUIDField(
        required=False, allow_null=True, help_text="离线录入的标识；同一标识重复提交时返回第一次的记录（200）"
    )
    open_case = serializers.BooleanField(required=False, help_text="据此走访申报监测对象（需勾选风险或填写走访情况）")
    household_version = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text="打开走访表时该户的版本（页面的 household_version）；该户此后被他人修改且与本次记录冲突时答复 409",
    )
    photos = serializers.ListField(child=serializers.FileField(), required=False, help_text="照片（可选，multipart）")


class TimelineItemSerializer(serializers.Serializer):
    """One entry of the case's history: an audit event or a visit."""

    kind = serializers.ChoiceField(choices=[("event", "操作记录"), ("visit", "走访")])
    at = serializers.DateTimeField()
    action = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label: DRF pops it
    from_state = serializers.CharField(allow_blank=True)
    from_state_label = serializers.CharField(allow_blank=True)
    to_state = serializers.CharField(allow_blank=True)
    to_state_label = serializers.CharField(allow_blank=True)
    actor = PersonSerializer(allow_null=True)
    comment = serializers.CharField(allow_blank=True)
    payload = serializers.JSONField()
    attachment = serializers.URLField(allow_null=True)
    visit = VisitSerializer(allow_null=True)

    def to_representation(self, item):
        labels = dict(State.choices)
        if isinstance(item, CaseEvent):
            return {
                "kind": "event",
                "at": serializers.DateTimeField().to_representation(item.at),
                "action": item.action,
                "label": item.label,
                "from_state": item.from_state,
                "from_state_label": labels.get(item.from_state, ""),
                "to_state": item.to_state,
                "to_state_label": labels.get(item.to_state, ""),
                "actor": PersonSerializer(item.actor).data if item.actor else None,
                "comment": item.comment,
                "payload": item.payload,
                "attachment": _file_url(
                    self.context.get("request"), item.attachment, "monitoring:event-attachment", item.case_id, item.pk
                ),
                "visit": None,
            }
        return {
            # Visits are dated, not timed: noon of the visit day, as selectors.timeline sorts them.
            "kind": "visit",
            "at": serializers.DateTimeField().to_representation(
                datetime.datetime.combine(item.visited_on, datetime.time(12), timezone.get_current_timezone())
            ),
            "action": "visit",
            "label": "走访",
            "from_state": "",
            "from_state_label": "",
            "to_state": "",
            "to_state_label": "",
            "actor": PersonSerializer(item.recorded_by).data,
            "comment": item.findings,
            "payload": {},
            "attachment": None,
            "visit": VisitSerializer(item, context=self.context).data,
        }


class CriterionSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label: DRF pops it
    met = serializers.BooleanField()
    figure = serializers.CharField()


class CaseDetailSerializer(CaseListSerializer):
    """One case with everything its page shows: facts of each step, what the caller may do
    now, the objections and the full timeline."""

    available_transitions = serializers.SerializerMethodField(
        help_text="调用者现在可以执行的操作名称（POST /api/cases/{id}/transitions/{name}/）"
    )
    actions = serializers.SerializerMethodField(help_text="调用者在当前阶段的操作；不可执行的附原因")
    appraisal_result_label = serializers.CharField(source="get_appraisal_result_display", read_only=True)
    elimination_reason_label = serializers.CharField(source="get_elimination_reason_display", read_only=True)
    reported_by = PersonSerializer(read_only=True, allow_null=True)
    commitment_scan = serializers.SerializerMethodField()
    objections = serializers.SerializerMethodField()
    elimination_criteria = serializers.SerializerMethodField(help_text="监测帮扶中时列出风险消除各项条件及数据")
    timeline = serializers.SerializerMethodField()

    class Meta(CaseListSerializer.Meta):
        fields = [
            *CaseListSerializer.Meta.fields,
            "available_transitions",
            "actions",
            "reason",
            "risk_note",
            "reported_by",
            "home_check_on",
            "home_checkers",
            "home_check_note",
            "commitment_signed_on",
            "commitment_scan",
            "appraisal_on",
            "appraisal_attendance",
            "appraisal_result",
            "appraisal_result_label",
            "appraisal_minutes",
            "notice_start",
            "notice_end",
            "town_reviewed_on",
            "town_review_note",
            "document_number",
            "elimination_appraisal_on",
            "elimination_notice_start",
            "elimination_notice_end",
            "elimination_accepted_on",
            "eliminated_on",
            "elimination_reason",
            "elimination_reason_label",
            "end_reason",
            "created_at",
            "objections",
            "elimination_criteria",
            "timeline",
        ]
        read_only_fields = fields

    def _actions(self, case):
        memo = self.context.setdefault("_actions", {})
        if case.pk not in memo:
            memo[case.pk] = services.actions_for(case, self.context["request"].user)
        return memo[case.pk]

    def get_available_transitions(self, case) -> list[str]:
        return [a.name for a in self._actions(case) if a.enabled]

    @extend_schema_field(ActionSerializer(many=True))
    def get_actions(self, case):
        return ActionSerializer(self._actions(case), many=True).data

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_commitment_scan(self, case):
        return _file_url(self.context.get("request"), case.commitment_scan, "monitoring:commitment-scan", case.pk)

    @extend_schema_field(ObjectionSerializer(many=True))
    def get_objections(self, case):
        objections = case.objections.select_related("recorded_by", "resolved_by", "case")
        return ObjectionSerializer(objections, many=True).data

    @extend_schema_field(CriterionSerializer(many=True))
    def get_elimination_criteria(self, case):
        if case.state != State.MONITORED:
            return []
        return CriterionSerializer(case.elimination_criteria(), many=True).data

    @extend_schema_field(TimelineItemSerializer(many=True))
    def get_timeline(self, case):
        return TimelineItemSerializer(selectors.timeline(case), many=True, context=self.context).data


class CaseCreateSerializer(serializers.Serializer):
    """Request body of a report (申报), validated by monitoring.forms.CaseCreateForm."""

    household = serializers.IntegerField(help_text="农户 id；不在您管辖范围内的农户按不存在处理（404）")
    channel = serializers.ChoiceField(choices=Channel.choices)
    discovered_on = serializers.DateField(help_text="发现日期，不能晚于今天")
    reason = serializers.CharField(help_text="申报理由/风险情况")
    category = serializers.ChoiceField(choices=Category.choices, required=False, allow_blank=True)
    primary_risk = serializers.ChoiceField(choices=RiskType.choices, required=False, allow_blank=True)
    secondary_risks = serializers.ListField(child=serializers.ChoiceField(choices=RiskType.choices), required=False)
    risk_note = serializers.CharField(max_length=200, required=False, allow_blank=True)
    contact_person = serializers.IntegerField(required=False, allow_null=True, help_text="帮扶联系人（用户 id）")


# --- the transition request ----------------------------------------------------------------

# Steps whose comment is the reason they need; the API also accepts it under "reason".
REASON_STEPS = sorted(
    name for name, form in forms.STEP_FORMS.items() if form.reason_required and name != "return_for_recheck"
)
TRANSITION_NAMES = sorted(name for name in forms.STEP_FORMS if name != "return_for_recheck")


def _schema_field(form_field, used_by):
    """The serializer field documenting a step form's field."""
    from django import forms as dj

    kwargs = {"required": False, "help_text": f"{form_field.label}（用于：{'、'.join(used_by)}）"}
    if isinstance(form_field, dj.ModelMultipleChoiceField):
        return serializers.ListField(child=serializers.IntegerField(), **kwargs)
    if isinstance(form_field, dj.MultipleChoiceField):
        return serializers.ListField(child=serializers.ChoiceField(choices=form_field.choices), **kwargs)
    if isinstance(form_field, dj.ChoiceField):
        return serializers.ChoiceField(choices=form_field.choices, **kwargs)
    if isinstance(form_field, dj.DateField):
        return serializers.DateField(**kwargs)
    if isinstance(form_field, dj.IntegerField):
        return serializers.IntegerField(**kwargs)
    if isinstance(form_field, dj.FileField):
        return serializers.FileField(**kwargs)
    return serializers.CharField(allow_blank=True, **kwargs)


def _transition_request_fields():
    used_by, first = {}, {}
    for name in TRANSITION_NAMES:
        for field_name, field in forms.STEP_FORMS[name]().fields.items():
            used_by.setdefault(field_name, []).append(name)
            first.setdefault(field_name, field)
    fields = {name: _schema_field(first[name], used_by[name]) for name in sorted(first)}
    fields["comment"] = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="意见/说明。以下操作必须填写原因："
        + "、".join(REASON_STEPS)
        + "；town_approve、town_accept_elimination 必须填写审核意见。",
    )
    fields["reason"] = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="county_approve_elimination：风险消除方式（"
        + "、".join(f"{value}={label}" for value, label in EliminationReason.choices)
        + "）；"
        + "、".join(REASON_STEPS)
        + "：原因（comment 的别名，二者择一）。",
    )
    return fields


TransitionRequestSerializer = type(
    "TransitionRequestSerializer",
    (serializers.Serializer,),
    {
        **_transition_request_fields(),
        "__doc__": "The data of a workflow step: each step reads only its own fields "
        "(monitoring.forms.STEP_FORMS); send JSON, or multipart/form-data with attachments.",
    },
)


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="为什么现在不能执行")
    reasons = serializers.ListField(child=serializers.CharField(), help_text="未满足的条件")
    state = serializers.ChoiceField(choices=State.choices, help_text="当前状态")
    state_label = serializers.CharField()
    available_transitions = serializers.ListField(
        child=serializers.CharField(), help_text="调用者现在仍可执行的操作（如条件不再满足时的 elimination_return）"
    )


class VisitConflictItemSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="项目字段，如 housing_secure")
    label = serializers.CharField(help_text="项目名称")  # type: ignore[assignment]  # a declared field named label
    server = serializers.BooleanField(help_text="服务器上现在的情况（他人在走访表打开后修改）")
    yours = serializers.BooleanField(help_text="本次走访记录的情况")


class VisitConflictSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="哪些项目在走访表打开后被他人修改")
    conflicts = VisitConflictItemSerializer(many=True)
    household_version = serializers.CharField(
        help_text="该户现在的版本：带上它重新提交即以本次走访为准（或先把冲突项目改为服务器上的情况）"
    )


class HistoricalCaseSerializer(serializers.Serializer):
    """Request body of a historical case (validated by monitoring.forms.HistoricalCaseForm)."""

    household = serializers.IntegerField(help_text="农户 id；不在您管辖范围内的农户按不存在处理（404）")
    channel = serializers.ChoiceField(choices=Channel.choices)
    discovered_on = serializers.DateField()
    reason = serializers.CharField()
    category = serializers.ChoiceField(choices=Category.choices)
    primary_risk = serializers.ChoiceField(choices=RiskType.choices)
    secondary_risks = serializers.ListField(child=serializers.ChoiceField(choices=RiskType.choices), required=False)
    risk_note = serializers.CharField(max_length=200, required=False, allow_blank=True)
    determined_on = serializers.DateField(help_text="原认定日期，早于今天")
    document_number = serializers.CharField(max_length=100, help_text="原认定文号")
    contact_person = serializers.IntegerField(required=False, allow_null=True, help_text="帮扶联系人（用户 id）")
    comment = serializers.CharField(required=False, allow_blank=True, help_text="补录说明")


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
