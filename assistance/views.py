"""Plan pages, phone-first: the plan of a case (measures, suggestions, rule warnings,
checklist), adding a measure (one tap from a suggestion), a measure's page with its history
and a quick progress form, and 我的帮扶 for a contact person.

Thin views: reads through assistance.selectors (404 outside scope), writes through
assistance.services, so a page does exactly what the API does and is refused for the same
reasons (Conflict → message, PermissionDenied → 403 page, ValidationError → form errors).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_POST

from households.forms import add_service_errors
from monitoring import selectors as monitoring_selectors
from monitoring.services import Conflict

from . import selectors, services
from .forms import MeasureCreateForm, MeasureUpdateForm, ProgressForm, StopForm
from .models import Measure, MeasureType

OVERDUE_PLANS_SHOWN = 20


def _plan_context(request, case, **extra):
    plan = selectors.plan_for(case)
    return {
        "case": case,
        "household": case.household,
        "plan": plan,
        "may_plan": plan.open_for_measures and services.may_plan(case, request.user),
        **extra,
    }


@login_required
def plan(request, pk):
    case = monitoring_selectors.case_for(request.user, pk)
    # The incomes once for the elimination criteria (each reads them: three queries otherwise),
    # with the members the labour rule reads, in one query.
    monitoring_selectors.read_members_and_incomes(case.household)
    return render(request, "assistance/plan.html", _plan_context(request, case))


@login_required
def measure_create(request, pk):
    user = request.user
    case = monitoring_selectors.case_for(user, pk)
    if request.method == "POST":
        form = MeasureCreateForm(request.POST, case=case)
        if form.is_valid():
            try:
                measure = services.measure_create(user=user, case_id=case.pk, data=form.cleaned_data)
            except Conflict as exc:
                messages.error(request, exc.message)
                return redirect("assistance:plan", pk=case.pk)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"已添加帮扶措施：{measure.measure_type.label}。")
                return redirect("assistance:plan", pk=case.pk)
    else:
        if case.state not in selectors.PLAN_STATES:
            messages.error(request, services._state_conflict(case, adding=True).message)
            return redirect("assistance:plan", pk=case.pk)
        if not services.may_plan(case, user):
            raise PermissionDenied("只有该户的帮扶联系人，或本村、本乡镇、本县的干部可以制定帮扶措施。")
        initial = {"starts_on": timezone.localdate(), "contact_person": case.contact_person_id}
        chosen = MeasureType.objects.filter(code=request.GET.get("type", ""), active=True).first()
        if chosen:
            initial["measure_type"] = chosen.code
            department = selectors.county_departments(case).get(chosen.department_kind)
            initial["department"] = department.pk if department else None
        form = MeasureCreateForm(initial=initial, case=case)
    return render(request, "assistance/measure_form.html", {"case": case, "form": form, "title": "添加帮扶措施"})


@login_required
@require_POST
def suggestion_add(request, pk):
    """One tap: add the suggested measure with its fields prefilled (planned, from today)."""
    user = request.user
    case = monitoring_selectors.case_for(user, pk)
    plan = selectors.plan_for(case)
    code = request.POST.get("measure_type", "")
    suggestion = next((s for s in plan.suggestions if s.measure_type.code == code), None)
    if suggestion is None:
        messages.error(request, "该推荐措施已不在推荐列表中（可能已添加），请刷新后查看。")
        return redirect("assistance:plan", pk=case.pk)
    data = {k: v for k, v in suggestion.prefill.items() if v is not None}
    form = MeasureCreateForm(data, case=case)
    if not form.is_valid():
        # The prefilled fields come from the catalogue and the case: open the form to fix them.
        return render(request, "assistance/measure_form.html", {"case": case, "form": form, "title": "添加帮扶措施"})
    try:
        measure = services.measure_create(user=user, case_id=case.pk, data=form.cleaned_data)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已添加帮扶措施：{measure.measure_type.label}（计划中）。开始实施后请记录进展。")
        return redirect("assistance:measure", pk=measure.pk)
    return redirect("assistance:plan", pk=case.pk)


def _measure_context(request, measure, **extra):
    case = measure.case
    may = case.state in selectors.MEASURE_UPDATE_STATES and services.may_update(measure, case, request.user)
    next_statuses = [
        (value, Measure.Status(value).label)
        for value in (Measure.Status.IN_PROGRESS, Measure.Status.DONE)
        if value in services.NEXT_STATUS.get(measure.status, set())
    ]
    return {
        "measure": measure,
        "case": case,
        "household": case.household,
        "may_update": may and measure.status != Measure.Status.STOPPED,
        "next_statuses": next_statuses,
        "progress_form": extra.pop("progress_form", None) or ProgressForm(),
        "continues": case.state == "eliminated" and measure.continues_after(case.eliminated_on or timezone.localdate()),
        **extra,
    }


@login_required
def measure_detail(request, pk):
    measure = selectors.measure_for(request.user, pk)
    return render(request, "assistance/measure_detail.html", _measure_context(request, measure))


@login_required
@require_POST
def measure_progress(request, pk):
    measure = selectors.measure_for(request.user, pk)
    form = ProgressForm(request.POST)
    if form.is_valid():
        try:
            services.measure_progress(
                user=request.user,
                measure_id=measure.pk,
                note=form.cleaned_data["note"],
                status=form.cleaned_data.get("status") or "",
            )
        except Conflict as exc:
            messages.error(request, exc.message)
            return redirect("assistance:measure", pk=measure.pk)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "已记录进展。")
            return redirect("assistance:measure", pk=measure.pk)
    measure = selectors.measure_for(request.user, pk)
    return render(request, "assistance/measure_detail.html", _measure_context(request, measure, progress_form=form))


@login_required
def measure_edit(request, pk):
    measure = selectors.measure_for(request.user, pk)
    case = measure.case
    if request.method == "POST":
        form = MeasureUpdateForm(request.POST, case=case)
        if form.is_valid():
            try:
                services.measure_update(
                    user=request.user,
                    measure_id=measure.pk,
                    changes=form.changed_facts(),
                    status=form.cleaned_data.get("status") or "",
                    note=form.cleaned_data.get("note") or "",
                )
            except Conflict as exc:
                messages.error(request, exc.message)
                return redirect("assistance:measure", pk=measure.pk)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "已保存修改。")
                return redirect("assistance:measure", pk=measure.pk)
    else:
        if not services.may_update(measure, case, request.user):
            raise PermissionDenied("您不能修改该帮扶措施。")
        initial = {name: getattr(measure, name) for name in services.FACT_FIELDS}
        initial["department"] = measure.department_id
        initial["contact_person"] = measure.contact_person_id
        initial["status"] = measure.status
        form = MeasureUpdateForm(initial=initial, case=case)
    return render(
        request,
        "assistance/measure_form.html",
        {"case": case, "form": form, "measure": measure, "title": f"修改帮扶措施：{measure.measure_type.label}"},
    )


@login_required
def measure_stop(request, pk):
    measure = selectors.measure_for(request.user, pk)
    form = StopForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.measure_stop(user=request.user, measure_id=measure.pk, reason=form.cleaned_data["note"])
        except Conflict as exc:
            messages.error(request, exc.message)
            return redirect("assistance:measure", pk=measure.pk)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "已终止该措施，原因已记录。")
            return redirect("assistance:plan", pk=measure.case_id)
    return render(request, "assistance/measure_stop.html", {"measure": measure, "case": measure.case, "form": form})


@login_required
def my_assistance(request):
    today = timezone.localdate()
    cases = selectors.my_assistance(request.user, today)
    return render(
        request,
        "assistance/mine.html",
        {
            "cases": cases,
            "today": today,
            "attention": sum(1 for c in cases if c.attention),
        },
    )


# --- sections other apps show (named in settings, so monitoring imports nothing from here) ----


def case_section(request, case):
    """The plan on the case page: its measures, what continues after elimination, a link."""
    if case.state not in selectors.MEASURE_UPDATE_STATES:
        return ""
    measures = selectors.case_measures(case)  # once per request: the elimination criterion reads them too
    continuing = selectors.continuing_measures(case)
    return render_to_string(
        "assistance/_case_section.html",
        {
            "case": case,
            "measures": measures,
            "continuing": continuing,
            "plan_due": selectors.plan_due_days(case, monitoring_selectors.SettingsCache()) if not measures else None,
        },
        request=request,
    )


def inbox_panel(user):
    """The panel's rows as 我的待办 reads them with the others (FANPIN_INBOX_PANELS): the longest
    overdue first."""
    return monitoring_selectors.Panel(selectors.overdue_plans_q(), ("determined_on", "id"), OVERDUE_PLANS_SHOWN)


def inbox_section(request):
    """Overdue plans in 我的待办, counted."""
    count = monitoring_selectors.inbox_counts(request.user).get("plans", 0)  # one COUNT for the panels
    if not count:
        return ""
    shown = monitoring_selectors.inbox_panel_rows(request.user, "plans")  # read with the other panels
    today, cache = timezone.localdate(), monitoring_selectors.SettingsCache()
    for case in shown:
        case.days_late = (today - case.determined_on).days - selectors.plan_due_days(case, cache)
    return render_to_string("assistance/_inbox_section.html", {"cases": shown, "count": count}, request=request)
