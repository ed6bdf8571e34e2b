"""Warning pages (issue 10 point 5): the inbox for village, town and county with filters and
counts, the warning page with its evidence and the verification in two taps, and the county's
analysis page (scale-risk alerts and each rule's share confirmed). The work is in
screening.warning_services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from households import selectors as household_selectors
from households.models import Area, Role
from households.paging import TwoStepPaginator

from . import warning_selectors as selectors
from . import warning_services as services
from .rules import RULES, RULES_BY_CODE
from .warning_filters import WarningFilter

PAGE_SIZE = 30
INCLUDE_DEFAULT_REASON = "已入户核实，情况属实。"


@login_required
def inbox(request):
    user = request.user
    if not household_selectors.has_role(user, Role.VILLAGE_CADRE, Role.TOWN_OFFICIAL, Role.COUNTY_OFFICER):
        raise PermissionDenied("预警由村、乡镇和县级干部查看和核实。")
    params = request.GET.copy()
    if "state" not in params:
        params["state"] = ""
    filtered = WarningFilter(params, queryset=selectors.inbox(user))
    queryset = filtered.qs if filtered.is_valid() else selectors.inbox(user).none()
    # In two steps (households.paging): the page's ids sorted on the narrow table, then its 30
    # rows with their village, town, household and case (one query sorted every joined row).
    paginator = TwoStepPaginator(queryset, PAGE_SIZE)
    counts = selectors.counts(selectors.with_tier(selectors.active(selectors.warnings_visible_to(user))))
    if filtered.is_valid() and not any(
        value for value in filtered.form.cleaned_data.values() if value not in (None, "")
    ):
        # Nothing filtered: the list is what the counts counted (one COUNT of the county fewer).
        paginator.count = sum(counts["state"].values())
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "filter": filtered,
        "page": page,
        "counts": counts,
        "towns": household_selectors.areas_visible_to(user, Area.Level.TOWN),
        "villages": household_selectors.areas_visible_to(user, Area.Level.VILLAGE),
        "is_county": household_selectors.has_role(user, Role.COUNTY_OFFICER),
        "query": request.GET.urlencode(),
    }
    return render(request, "screening/warning_inbox.html", context)


@login_required
def warning_detail(request, pk):
    warning = selectors.warning_for(request.user, pk)
    events = warning.events.select_related("actor")
    rule = RULES_BY_CODE.get(warning.rule)
    context = {
        "warning": warning,
        "events": events,
        "rule": rule,
        "default_reason": INCLUDE_DEFAULT_REASON,
        "may_dispatch": warning.state == "new"
        and household_selectors.has_role(request.user, Role.TOWN_OFFICIAL, Role.COUNTY_OFFICER),
    }
    return render(request, "screening/warning_detail.html", context)


@login_required
@require_POST
def warning_verify(request, pk):
    decision = request.POST.get("decision", "")
    reason = request.POST.get("reason", "").strip()
    if decision == "included" and not reason:
        reason = INCLUDE_DEFAULT_REASON
    try:
        warning = services.warning_verify(user=request.user, warning_id=pk, decision=decision, reason=reason)
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
        return redirect("screening:warning", pk=pk)
    except services.Conflict as exc:
        messages.error(request, str(exc))
        return redirect("screening:warning", pk=pk)
    if warning.state == "included" and warning.case_id:
        messages.success(request, "预警已核实纳入，请继续办理监测对象。")
        return redirect("monitoring:case-detail", pk=warning.case_id)
    messages.success(request, "核实结果已保存。")
    return redirect("screening:warning", pk=pk)


@login_required
@require_POST
def warning_dispatch(request, pk):
    try:
        services.warning_dispatch(user=request.user, warning_id=pk)
    except (ValidationError, services.Conflict) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, "预警已下发到村。")
    return redirect("screening:warning", pk=pk)


@login_required
def analysis(request):
    """County officers: scale-risk alerts with the warnings behind them, and each rule's share
    of verified warnings that were included (counts only, no ranking of people)."""
    user = request.user
    if not (household_selectors.has_role(user, Role.COUNTY_OFFICER)):
        raise PermissionDenied("预警分析供县乡村振兴局使用。")
    alerts = list(selectors.alerts_visible_to(user)[:100])
    quality = selectors.rule_quality(user)
    for row in quality:
        rule = RULES_BY_CODE.get(row["rule"])
        row["label"] = rule.label if rule else row["rule"]
        row["setting"] = rule.setting if rule else ""
    return render(request, "screening/warning_analysis.html", {"alerts": alerts, "quality": quality, "rules": RULES})


@login_required
def warning_count(request):
    """The navigation's count (fetched by static/js/warning-count.js): open warnings the user can act on."""
    return JsonResponse({"count": selectors.open_count(request.user)})
