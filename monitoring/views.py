"""Monitoring pages: 我的待办, the case list and detail, one form page per workflow step,
objections, visits and the printable public-notice list.

Thin views, like the registry's: reads go through monitoring.selectors (404 outside the
user's scope), every write through monitoring.services, so a page does exactly what the API
does and is refused for exactly the same reasons (Conflict → message, PermissionDenied → 403
page, ValidationError → errors on the form, re-rendered with status 200 like any Django form).
"""

import uuid

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from households import idnumber, listing, quality
from households import selectors as household_selectors
from households.forms import add_service_errors
from households.models import Area, Member, Role

from . import extensions, permissions, selectors, services
from .filters import CaseFilter
from .forms import STEP_FORMS, CaseCreateForm, ObjectionForm, ObjectionResolveForm, VisitForm
from .models import INLINE_EXTENSIONS, OPEN_STATES, CaseEvent, MonitoringCase, Objection, State, Visit, VisitPhoto

PAGE_SIZE = 20
# The case list's sortable columns (households.listing.sorting): key → fields, ascending.
CASE_COLUMNS = {
    "number": ("household__number",),
    "head": ("head_name",),
    "village": ("village__path",),
    "state": ("state",),
    "category": ("category",),
    "discovered": ("discovered_on",),
}
OVERDUE_VISITS_SHOWN = 50

# The step a case waits for in each state, named in the inbox ("待办事项").
AWAITED_STEP = {
    State.REPORTED: "start_appraisal",
    State.VILLAGE_APPRAISAL: "publish_notice",
    State.PUBLIC_NOTICE: "close_notice",
    State.TOWN_REVIEW: "town_approve",
    State.COUNTY_REVIEW: "county_approve",
    State.ELIMINATION_APPRAISAL: "publish_elimination_notice",
    State.ELIMINATION_NOTICE: "close_elimination_notice",
    State.ELIMINATION_TOWN_REVIEW: "town_accept_elimination",
    State.ELIMINATION_COUNTY_REVIEW: "county_approve_elimination",
}

# Returns and endings: offered as plain buttons, the way forward as the primary one.
SIDE_STEPS = {"town_return", "county_return", "elimination_return", "reject", "withdraw", "close"}
# The endings: rare and final, offered apart from the other steps, each on a page that asks
# for the reason and confirms before acting.
FINAL_STEPS = {"reject", "withdraw", "close"}


def _may_visit(user, household, cases=None):
    try:
        services.check_visitor(user, household, cases)
    except PermissionDenied:
        return False
    return True


def _head_name():
    head = Member.objects.filter(
        household=OuterRef("household"), relation=Member.Relation.HEAD, status=Member.Status.ACTIVE
    )
    return Subquery(head.values("name")[:1])


def _with_deadlines(cases, cache=None):
    """Attach the determination deadline to each case of a page (county settings read once)."""
    cache = cache if cache is not None else selectors.SettingsCache()
    cases = list(cases)
    for case in cases:
        case.deadline = selectors.deadline(case, cache)
        step = AWAITED_STEP.get(case.state)
        case.awaited = services.transition_label(step) if step else ""
    return cases


def _villages_with_notice_links(user):
    """Villages where the user may print a notice list: those they act in as village cadre."""
    return [
        r.area
        for r in household_selectors.user_roles(user)
        if r.role == Role.VILLAGE_CADRE and r.area_id and r.area.level == Area.Level.VILLAGE
    ]


# --- lists ----------------------------------------------------------------------------------


@login_required
def inbox(request):
    user = request.user
    paginator = Paginator(MonitoringCase.objects.none(), PAGE_SIZE)
    paginator.count = selectors.inbox_counts(user)["inbox"]  # the panels' one grouped COUNT
    page = paginator.get_page(request.GET.get("page"))
    # Every panel's rows in two queries (selectors.inbox_rows): this page of the to-do list, the
    # overdue visits (one more than shown, to tell that there are more) and the sections' panels.
    offset = (page.number - 1) * PAGE_SIZE
    rows = selectors.inbox_rows(
        user,
        {
            "inbox": selectors.Panel(selectors.inbox_q(user), ("discovered_on", "id"), PAGE_SIZE, offset),
            "visits": selectors.overdue_visits_panel(OVERDUE_VISITS_SHOWN + 1),
        },
    )
    cache = selectors.SettingsCache()
    page.object_list = _with_deadlines(rows.get("inbox", []), cache)

    today = timezone.localdate()
    visits = rows.get("visits", [])
    more_visits = len(visits) > OVERDUE_VISITS_SHOWN
    visits = visits[:OVERDUE_VISITS_SHOWN]
    for case in visits:
        since = case.last_visit_on or case.determined_on
        case.days_since_visit = (today - since).days if since else None
    return render(
        request,
        "monitoring/inbox.html",
        {
            "page": page,
            "overdue_visits": visits,
            "more_visits": more_visits,
            "notice_villages": _villages_with_notice_links(user),
            "extra_sections": extensions.page_sections("FANPIN_INBOX_SECTIONS", request),
        },
    )


@login_required
def case_list(request):
    user = request.user
    scoped = selectors.cases_visible_to(user).select_related(*selectors.LIST_RELATED).annotate(head_name=_head_name())
    case_filter = CaseFilter(request.GET, queryset=scoped, request=request)
    # django-filter labels the empty choice of a yes/no filter "未知"; here it means "any".
    case_filter.form.fields["overdue"].widget.choices = [("unknown", "全部"), ("true", "是"), ("false", "否")]
    order = listing.sorting(request, CASE_COLUMNS, "-discovered")
    page = Paginator(case_filter.qs.order_by(*order.order_by), PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = _with_deadlines(page.object_list)
    return render(
        request,
        "monitoring/case_list.html",
        {
            "filter": case_filter,
            "page": page,
            "sorting": order,
            "filtered": any(v and v != "unknown" for k, v in request.GET.items() if k not in ("page", "sort")),
            "can_report": selectors.reportable_households(user).exists(),
        },
    )


# --- detail ---------------------------------------------------------------------------------


def _may_handle_objections(case, user):
    return permissions.village_cadre(case, user) or permissions.town_official(case, user)


def _detail_context(request, case, *, objection_form=None, resolve_forms=None):
    user = request.user
    household = case.household
    # Members and incomes once for the whole page (the head, the size, the incomes against the
    # line and the data-quality findings all read them).
    selectors.read_members_and_incomes(household)
    members = list(household.members.all())
    head = next((m for m in members if m.relation == Member.Relation.HEAD and m.status == Member.Status.ACTIVE), None)
    notices = (State.PUBLIC_NOTICE, State.ELIMINATION_NOTICE)
    in_notice = case.state in notices
    timeline = selectors.timeline(case)
    # What the timeline records: a record made beside the case is an event of it as well
    # (objection_record writes objection_recorded, the asset comparison its own), so the page
    # and the sections of the layers above ask for such records only when one was made.
    case.recorded_actions = {item.action for item in timeline if isinstance(item, CaseEvent)}
    recorded = services.OBJECTION_RECORDED in case.recorded_actions
    objections = list(case.objections.select_related("recorded_by", "resolved_by")) if recorded else []
    handles_objections = _may_handle_objections(case, user)
    resolve_forms = resolve_forms or {}
    for objection in objections:
        if objection.status == Objection.Status.OPEN and handles_objections:
            objection.resolve_form = resolve_forms.get(objection.pk) or ObjectionResolveForm(
                prefix=f"objection-{objection.pk}"
            )
    show_criteria = case.state in (State.MONITORED, State.ELIMINATION_APPRAISAL)
    actions = services.actions_for(case, user)
    for action in actions:
        action.primary = action.name not in SIDE_STEPS
        action.final = action.name in FINAL_STEPS
    # The way forward comes first: the first button under a thumb must not be 不予纳入. The rare
    # endings (自然减少, 不予纳入, 撤回) are kept apart, secondary, behind their confirm page.
    actions.sort(key=lambda a: not a.primary)
    step = AWAITED_STEP.get(case.state)
    return {
        "case": case,
        "household": household,
        "head": head,
        "masked_head_id": idnumber.mask(head.id_number) if head else "",
        "size": sum(1 for m in members if m.status == Member.Status.ACTIVE),
        "deadline": selectors.deadline(case),
        "actions": [a for a in actions if not a.final],
        "final_actions": [a for a in actions if a.final],
        "income_lines": selectors.income_against_line(household),
        "findings": quality.household_findings(household),
        "awaited": services.transition_label(step) if step else "",
        # An open case is the household's only open one (case_one_open_per_household): whether
        # the user is its contact person is read from it, not asked of the database.
        "can_visit": case.is_open and _may_visit(user, household, [case]),
        "objections": objections,
        "objection_form": (objection_form or ObjectionForm()) if in_notice and handles_objections else None,
        "criteria": case.elimination_criteria() if show_criteria else None,
        "timeline": timeline,
        "can_print_notice": in_notice,
        "extra_sections": extensions.page_sections("FANPIN_CASE_PAGE_SECTIONS", request, case),
    }


@login_required
def case_detail(request, pk):
    case = selectors.case_for(request.user, pk)
    return render(request, "monitoring/case_detail.html", _detail_context(request, case))


def _step_or_404(name):
    # return_for_recheck is internal: only an upheld objection takes it.
    if name not in STEP_FORMS or name == "return_for_recheck":
        raise Http404("没有该操作。")
    return STEP_FORMS[name]


def _action_for_page(case, user, name):
    """The action as the user may see it now. A step not possible from the current state is a
    Conflict (the page was stale); a step the role may not take is a 403, as in the service."""
    for action in services.actions_for(case, user):
        if action.name == name:
            return action
    if any(t.name == name and t.source in (case.state, "*") for t in case.get_all_state_transitions()):
        raise PermissionDenied(
            f"您的角色不能在“{case.get_state_display()}”阶段执行“{services.transition_label(name)}”。"
        )
    raise services.Conflict(
        f"当前状态为“{case.get_state_display()}”，不能执行“{services.transition_label(name)}”。可能已被他人处理，请刷新页面。"
    )


@login_required
def case_action(request, pk, name):
    form_class = _step_or_404(name)
    case = selectors.case_for(request.user, pk)
    if request.method == "POST":
        form = form_class(request.POST, request.FILES, case=case)
        try:
            services.case_transition(
                user=request.user, case_id=case.pk, name=name, data=request.POST, files=request.FILES
            )
        except services.Conflict as exc:
            if not exc.reasons:
                # Stale page: the case has moved on (another tab, another person).
                messages.error(request, exc.message)
                return redirect("monitoring:case-detail", pk=case.pk)
            # A condition the form itself can satisfy (home check, commitment date, ...):
            # keep what was typed and say what is missing, on the form.
            if form.is_valid():
                form.add_condition_errors(exc.conditions)
        except ValidationError as exc:
            # The service validated the same form; show its errors where the user typed.
            if form.is_valid():
                add_service_errors(form, exc)
        else:
            messages.success(request, f"已完成“{services.transition_label(name)}”。")
            return redirect("monitoring:case-detail", pk=case.pk)
        action = None
    else:
        try:
            action = _action_for_page(case, request.user, name)
        except services.Conflict as exc:
            messages.error(request, exc.message)
            return redirect("monitoring:case-detail", pk=case.pk)
        form = form_class(case=case)
    # The step's own data first; the comment and attachment every step may carry last.
    common = ("comment", "attachment")
    fields = [f for f in form.visible_fields() if f.name not in common] + [form[n] for n in common if n in form.fields]
    return render(
        request,
        "monitoring/case_action.html",
        {
            "case": case,
            "form": form,
            "fields": fields,
            "name": name,
            "label": services.transition_label(name),
            "final": name in FINAL_STEPS,
            "action": action,
            "deadline": selectors.deadline(case),
        },
    )


@login_required
@require_POST
def objection_create(request, pk):
    case = selectors.case_for(request.user, pk)
    form = ObjectionForm(request.POST)
    if form.is_valid():
        try:
            services.objection_record(user=request.user, case_id=case.pk, **form.cleaned_data)
        except services.Conflict as exc:
            messages.error(request, exc.message)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "已登记异议。异议处理完毕前不能结束公示。")
            return redirect("monitoring:case-detail", pk=case.pk)
        if not form.errors:
            return redirect("monitoring:case-detail", pk=case.pk)
    return render(request, "monitoring/case_detail.html", _detail_context(request, case, objection_form=form))


@login_required
@require_POST
def objection_resolve(request, pk, objection_pk):
    case = selectors.case_for(request.user, pk)
    objection = household_selectors.get_or_404(case.objections.all(), pk=objection_pk)
    form = ObjectionResolveForm(request.POST, prefix=f"objection-{objection.pk}")
    if form.is_valid():
        try:
            services.objection_resolve(user=request.user, objection_id=objection.pk, **form.cleaned_data)
        except services.Conflict as exc:
            messages.error(request, exc.message)
            return redirect("monitoring:case-detail", pk=case.pk)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if form.cleaned_data["upheld"]:
                messages.success(request, "已处理异议：异议成立，已退回重新核实。")
            else:
                messages.success(request, "已处理异议：异议不成立。")
            return redirect("monitoring:case-detail", pk=case.pk)
    return render(
        request, "monitoring/case_detail.html", _detail_context(request, case, resolve_forms={objection.pk: form})
    )


def _private_file(fieldfile):
    """Serve an uploaded file: images and PDFs open in the browser, anything else downloads."""
    name = fieldfile.name.rsplit("/", 1)[-1]
    inline = name.rsplit(".", 1)[-1].lower() in INLINE_EXTENSIONS
    return FileResponse(fieldfile.open("rb"), filename=name, as_attachment=not inline)


@login_required
def event_attachment(request, pk, event_pk):
    """Attachments (commitment scans, minutes) are personal data: served only inside scope."""
    case = selectors.case_for(request.user, pk)
    event = household_selectors.get_or_404(CaseEvent.objects.filter(case=case).exclude(attachment=""), pk=event_pk)
    return _private_file(event.attachment)


@login_required
def commitment_scan(request, pk):
    case = selectors.case_for(request.user, pk)
    if not case.commitment_scan:
        raise Http404("没有上传承诺授权书扫描件。")
    return _private_file(case.commitment_scan)


# --- new case -------------------------------------------------------------------------------


def _contacts_for(user):
    """People who may follow a case reported by this user (see selectors.contact_candidates)."""
    villages = household_selectors.scope_areas(user, (Role.VILLAGE_CADRE,))
    if not villages:
        return get_user_model().objects.none()
    ids = set()
    for village in villages:
        ids.update(selectors.contact_candidates(village).values_list("pk", flat=True))
    return get_user_model().objects.filter(pk__in=ids).order_by("username")


@login_required
def case_create(request):
    """申报: first find the household (search by name, number or ID fragment: a picker that
    stays instant at a county's 100,000 households), then report it. ?visit= carries a visit
    just recorded (据此申报): its day, findings and risks start the form, and the case is made
    from it (services.case_create_from_visit)."""
    user = request.user
    households = selectors.reportable_households(user)
    if not households.exists():
        raise PermissionDenied("只有村干部或驻村工作队可以申报监测对象。")
    source = request.POST if request.method == "POST" else request.GET
    visit = None
    if source.get("visit"):
        visit = household_selectors.get_or_404(
            Visit.objects.filter(household__in=households, case__isnull=True).select_related("household"),
            pk=source.get("visit"),
        )
    chosen = visit.household if visit else None
    if chosen is None and source.get("household"):
        chosen = household_selectors.household_for(user, source.get("household"))
        if not households.filter(pk=chosen.pk).exists():
            raise PermissionDenied("只有本村的村干部或驻村工作队可以申报监测对象。")
    if visit is None and chosen is not None and request.method != "POST":
        # Reported from the household page after a visit that found something: the same as
        # 据此申报 from that visit (DOMAIN.md §8: nothing the visit recorded is asked again).
        visit = services.visit_to_report(chosen)
    term = request.GET.get("q", "").strip()
    if chosen is None and request.method != "POST":
        return render(
            request,
            "monitoring/case_pick.html",
            {"term": term, "pick": selectors.household_pick(user, term), "limit": selectors.PICKER_LIMIT},
        )
    initial = {"household": getattr(chosen, "pk", None), **(services.visit_report_facts(visit) if visit else {})}
    form = CaseCreateForm(request.POST or None, initial=initial, households=households, contacts=_contacts_for(user))
    form.fields["contact_person"].label_from_instance = lambda u: u.get_full_name() or u.username
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if visit is not None:
                data = {k: v for k, v in data.items() if k != "household"}
                case = services.case_create_from_visit(user=user, visit=visit, **data)
            else:
                case = services.case_create(user=user, **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            carried = "（已带入走访记录和入户核实情况）" if visit else ""
            messages.success(
                request, f"已申报监测对象：农户 {case.household.number}{carried}。下一步：入户核实并开始村级评议。"
            )
            return redirect("monitoring:case-detail", pk=case.pk)
    open_case = chosen.cases.filter(state__in=OPEN_STATES).first() if chosen else None
    return render(
        request,
        "monitoring/case_form.html",
        {"form": form, "household": chosen, "visit": visit, "open_case": open_case},
    )


# --- visits ---------------------------------------------------------------------------------


@login_required
def visit_list(request, household_pk):
    household = household_selectors.household_for(request.user, household_pk)
    visits = Visit.objects.filter(household=household).select_related("recorded_by", "case").prefetch_related("photos")
    page = Paginator(visits, PAGE_SIZE).get_page(request.GET.get("page"))
    # Just saved (?saved=): say what comes next. A visit with no case, by a cadre who may report
    # this household, is offered 据此申报 with the visit carried into the report.
    saved = visits.filter(pk=request.GET.get("saved")).first() if request.GET.get("saved", "").isdigit() else None
    may_report = (
        saved is not None
        and saved.case_id is None
        and not household.cases.filter(state__in=OPEN_STATES).exists()
        and selectors.reportable_households(request.user).filter(pk=household.pk).exists()
    )
    return render(
        request,
        "monitoring/visit_list.html",
        {"household": household, "page": page, "saved": saved, "may_report": may_report},
    )


@login_required
def visit_create(request, household_pk):
    user = request.user
    household = household_selectors.household_for(user, household_pk)
    # Same rule as the service: village and town cadres of the place, or the case's contact person.
    services.check_visitor(user, household)
    open_case = household.cases.filter(state__in=OPEN_STATES).first()
    if request.method == "POST":
        form = VisitForm(request.POST, request.FILES, household=household)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k not in ("photos", "open_case")}
            try:
                visit = services.visit_create(
                    user=user,
                    household=household,
                    photos=form.cleaned_data["photos"],
                    open_case=form.cleaned_data["open_case"],
                    **data,
                )
            except services.HouseholdChanged as exc:
                # Shown, never overwritten: the next save (same or corrected ticks) is the
                # cadre's decision, against the household as it is now.
                data = request.POST.copy()
                data["household_version"] = exc.version
                form = VisitForm(data, household=household)
                form.is_valid()
                form.add_error(
                    None,
                    f"{exc.message} 如以本次走访为准，请直接再次保存；如保留现在的情况，请修改上面的勾选后保存。"
                    + ("照片需要重新选择。" if request.FILES else ""),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                if visit.case and form.cleaned_data["open_case"] and not open_case:
                    messages.success(request, "已保存走访记录，并据此申报了监测对象。下一步：入户核实并开始村级评议。")
                    return redirect("monitoring:case-detail", pk=visit.case.pk)
                messages.success(request, f"已保存 {visit.visited_on} 的走访记录。")
                return redirect(reverse("monitoring:visit-list", args=[household.pk]) + f"?saved={visit.pk}")
    else:
        # Generated here so a double submit dedupes even where crypto.randomUUID is missing
        # (plain http on a village network); the page's script only fills it when empty.
        form = VisitForm(household=household, initial={"client_uuid": uuid.uuid4(), "visitors": _visitor_name(user)})
    return render(
        request,
        "monitoring/visit_form.html",
        {
            "form": form,
            "household": household,
            "open_case": open_case,
        },
    )


def _visitor_name(user):
    return user.get_full_name() or user.username


@login_required
def visit_photo(request, pk):
    photo = household_selectors.get_or_404(
        VisitPhoto.objects.filter(visit__household__in=household_selectors.households_visible_to(request.user)), pk=pk
    )
    return _private_file(photo.image)


# --- public notice --------------------------------------------------------------------------


@login_required
def notice_list(request, village_pk):
    villages = household_selectors.areas_visible_to(request.user, Area.Level.VILLAGE).select_related("parent__parent")
    village = household_selectors.get_or_404(villages, pk=village_pk)
    elimination = request.GET.get("elimination") == "1"
    cases = list(selectors.notice_list(request.user, village, elimination=elimination))
    settings = selectors.county_settings_on(village.county)
    for case in cases:
        case.start, case.end = (
            (case.elimination_notice_start, case.elimination_notice_end)
            if elimination
            else (case.notice_start, case.notice_end)
        )
    return render(
        request,
        "monitoring/notice_list.html",
        {
            "village": village,
            "cases": cases,
            "elimination": elimination,
            "objection_channel": settings.objection_channel,
            "today": timezone.localdate(),
        },
    )
