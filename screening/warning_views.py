"""Warning pages (issue 10 point 5): the inbox for village, town and county with filters and
counts, the warning page with its evidence and the verification in two taps, and the county's
analysis page (scale-risk alerts and each rule's share confirmed). The work is in
screening.warning_services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from households import selectors as household_selectors
from households.models import Area, Role

from . import warning_selectors as selectors
from . import warning_services as services
from .models import Tier
from .rules import RULES, RULES_BY_CODE
from .warning_filters import WarningFilter

PAGE_SIZE = 30
INCLUDE_DEFAULT_REASON = "已入户核实，情况属实。"


class TierPaginator(Paginator):
    """The inbox's order (red first, then orange, then yellow; oldest first within a tier) read
    tier by tier: the list's count of each tier says which tiers a page spans, and the page's
    ids of each come from that tier's condition (warning_selectors.tier_q: comparisons of
    days) in age order; then the page's 30 rows with village, town, household and case. Sorted
    by the tier expression, PostgreSQL computed it for every warning of the county (50,000)."""

    def __init__(self, object_list, per_page, *, by_tier):
        super().__init__(object_list, per_page)
        self.by_tier = by_tier
        self.count = sum(by_tier.values())

    def page(self, number):
        number = self.validate_number(number)
        bottom, top = (number - 1) * self.per_page, number * self.per_page
        ids, start = [], 0
        for tier in (Tier.RED, Tier.ORANGE, Tier.YELLOW):
            size = self.by_tier.get(tier, 0)
            low, high = max(bottom, start), min(top, start + size)
            if low < high:
                in_tier = self.object_list.filter(selectors.tier_q(tier)).order_by("raised_on", "pk")
                ids += list(in_tier.values_list("pk", flat=True)[low - start : high - start])
            start += size
        rows = {w.pk: w for w in self.object_list.order_by().filter(pk__in=ids)} if ids else {}
        return Page([rows[pk] for pk in ids if pk in rows], number, self)


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
    counts = selectors.counts(selectors.active(selectors.warnings_visible_to(user)))
    if filtered.is_valid() and not any(
        value for value in filtered.form.cleaned_data.values() if value not in (None, "")
    ):
        by_tier = counts["tier"]  # nothing filtered: the list is what the counts counted
    else:
        by_tier = selectors.counts(queryset)["tier"] if filtered.is_valid() else {}
    page = TierPaginator(queryset, PAGE_SIZE, by_tier=by_tier).get_page(request.GET.get("page"))
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
