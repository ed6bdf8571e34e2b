"""Registry pages. Thin views: scope through selectors (404 outside scope), writes through
services (403 when the role may only read), forms only parse and present."""

import copy
from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import F, Prefetch, prefetch_related_objects
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from . import idnumber, listing, paging, quality, selectors, services
from .filters import HouseholdFilter
from .forms import HouseholdForm, IncomeForm, MemberForm, add_service_errors, member_service_data
from .models import IncomeRecord, Member

CLASHES_SHOWN = 100  # the newest refused duplicates listed for the county (quality report)

PAGE_SIZE = 20
# The household list's sortable columns (listing.sorting): key → fields, ascending. Only
# columns of the household row itself: sorting a county's 100,000 households by a computed
# column (head, size, income) would compute it for every one of them.
HOUSEHOLD_COLUMNS = {
    "number": ("number",),
    # The scope's villages in id order (selectors.HOUSEHOLD_ORDER): a sort the (village, number)
    # index answers, where the village's path would be a join and a sort of the whole scope.
    "village": selectors.HOUSEHOLD_ORDER,
    "type": ("household_type",),
}
DEFAULT_SORT = "village"
QUALITY_PAGE_SIZE = 50


def _editable_household(user, pk):
    """The household for a write page: 404 outside scope, 403 when the role may only read."""
    household = selectors.household_for(user, pk)
    if not selectors.can_edit_household(user, household):
        raise PermissionDenied("您的角色只能查看该农户，不能修改。")
    return household


def _warn_findings(request, household):
    for finding in services.findings_after_entry(household):
        messages.warning(request, finding.message)


@login_required
def household_list(request):
    user = request.user
    # Filtered, counted and paged without the annotations (a narrower query to build and run);
    # only the page's rows carry them (paging.TwoStepPaginator's `rows`).
    scoped = selectors.households_visible_to(user)
    household_filter = HouseholdFilter(request.GET, queryset=scoped, request=request)
    # django-filter labels the empty choice of a yes/no filter "未知"; here it means "any".
    household_filter.form.fields["relocated"].widget.choices = [("unknown", "全部"), ("true", "是"), ("false", "否")]
    # By default village by village, by number within a village: the (village, number) index's
    # order, which a page reads from the scope's first village on and stops at its end.
    order = listing.sorting(request, HOUSEHOLD_COLUMNS, DEFAULT_SORT)
    ordered = household_filter.qs.order_by(*order.order_by)
    # The rows of the page's ids (read from the scoped, filtered queryset above).
    rows = selectors.annotated_households()
    page = paging.TwoStepPaginator(ordered, PAGE_SIZE, rows=rows).get_page(request.GET.get("page"))
    # Each row's link and village written here once, not by a {% url %} tag and four lookups per row.
    detail_url = reverse("households:detail", args=[0]).removesuffix("0/") + "{}/"
    for household in page.object_list:
        household.detail_url = detail_url.format(household.pk)
        household.village_label = f"{household.village.parent.name} {household.village.name}"
        household.masked_head_id = idnumber.mask(household.head_id_number)
        household.special_groups = selectors.special_groups_of(household)
    return render(
        request,
        "households/list.html",
        {
            "filter": household_filter,
            "page": page,
            "sorting": order,
            "can_register": selectors.may_register_households(user),
            "filtered": any(v and v != "unknown" for k, v in request.GET.items() if k not in ("page", "q", "sort")),
            "searched": bool(request.GET.get("q")),
        },
    )


@login_required
def household_detail(request, pk):
    household = selectors.household_for(request.user, pk)
    prefetch_related_objects(
        [household],
        "members",
        Prefetch("incomes", queryset=IncomeRecord.objects.order_by("-year", F("month").asc(nulls_first=True))),
    )
    # Full ID numbers and phones are shown here: every view is logged (DOMAIN.md §9).
    services.personal_data_viewed(user=request.user, household=household, channel="page")
    return render(
        request,
        "households/detail.html",
        {
            "household": household,
            "members": selectors.ordered_members(household),
            "incomes": list(household.incomes.all()),
            "findings": quality.household_findings(household),
            "special_groups": selectors.special_groups_of(household),
            "can_edit": selectors.can_edit_household(request.user, household),
        },
    )


@login_required
def household_create(request):
    return register_household(request)


def register_household(request, *, initial=None, head_initial=None, villages=None, after_save=None, context=None):
    """The registration page (household and head in one entry). Layers above start it from what
    they know (`initial`, `head_initial`: a declaration's village, name, ID number and phone) and
    take the new household in `after_save(household)` inside the same transaction, returning
    where to go next; without it the new household's page."""
    villages = selectors.villages_writable_by(request.user) if villages is None else villages
    if not villages.exists():
        raise PermissionDenied("您的角色不能登记农户。")
    data = request.POST if request.method == "POST" else None
    form = HouseholdForm(data, villages=villages, initial=initial)
    head_form = MemberForm(data, prefix="head", head=True, initial=head_initial)
    if data is not None and form.is_valid() & head_form.is_valid():
        target = form
        try:
            # Household and head are one entry: either both are saved or neither.
            with transaction.atomic():
                household = services.household_create(user=request.user, **form.cleaned_data)
                target = head_form
                services.member_create(
                    user=request.user,
                    household=household,
                    relation=Member.Relation.HEAD,
                    **member_service_data(head_form),
                )
                target = form
                next_url = after_save(household) if after_save else None
        except ValidationError as exc:
            add_service_errors(target, exc)
        else:
            messages.success(request, f"已登记农户 {household.number}，户主 {head_form.cleaned_data['name']}。")
            _warn_findings(request, household)
            return redirect(next_url or reverse("households:detail", args=[household.pk]))
    return render(request, "households/household_form.html", {"form": form, "head_form": head_form, **(context or {})})


@login_required
def household_edit(request, pk):
    household = _editable_household(request.user, pk)
    villages = selectors.villages_writable_by(request.user)
    # The form works on a copy: the service compares the stored village with the new one.
    form = HouseholdForm(request.POST or None, instance=copy.copy(household), villages=villages)
    if request.method == "GET":  # the form shows the full phone and bank account
        services.personal_data_viewed(user=request.user, household=household, channel="page")
    if request.method == "POST" and form.is_valid():
        try:
            services.household_update(user=request.user, household=household, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"已保存农户 {household.number}。")
            _warn_findings(request, household)
            return redirect("households:detail", pk=household.pk)
    return render(request, "households/household_form.html", {"form": form, "household": household})


@login_required
def member_create(request, pk):
    household = _editable_household(request.user, pk)
    has_head = household.head_name is not None
    initial = {} if has_head else {"relation": Member.Relation.HEAD}
    form = MemberForm(request.POST or None, household=household, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.member_create(user=request.user, household=household, **member_service_data(form))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"已添加成员 {member.name}。")
            _warn_findings(request, household)
            if "_addanother" in request.POST:
                return redirect("households:member-create", pk=household.pk)
            return redirect("households:detail", pk=household.pk)
    return render(request, "households/member_form.html", {"form": form, "household": household})


@login_required
def member_edit(request, pk, member_pk):
    household = _editable_household(request.user, pk)
    member = selectors.get_or_404(household.members.all(), pk=member_pk)
    form = MemberForm(request.POST or None, instance=copy.copy(member), household=household)
    if request.method == "GET":  # the form shows the full ID number and phone
        services.personal_data_viewed(user=request.user, household=household, channel="page")
    if request.method == "POST" and form.is_valid():
        try:
            services.member_update(user=request.user, member=member, **member_service_data(form))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"已保存成员 {member.name}。")
            _warn_findings(request, household)
            return redirect("households:detail", pk=household.pk)
    return render(request, "households/member_form.html", {"form": form, "household": household, "member": member})


def _save_income(request, household, form, record=None):
    data, declared_total = form.service_data()
    try:
        record = services.income_record_save(
            user=request.user,
            household=household,
            record=record,
            declared_total=declared_total,
            **data,
        )
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "total_net_income" in exc.error_dict:
            form.add_error("declared_total", exc.error_dict.pop("total_net_income"))
        if not hasattr(exc, "error_dict") or exc.error_dict:
            add_service_errors(form, exc)
        return None
    messages.success(
        request,
        f"已保存{record.period_label}收入：家庭纯收入 {record.total_net_income} 元，"
        f"家庭人口 {record.household_size} 人，人均纯收入 {record.per_capita_net_income} 元。",
    )
    _warn_findings(request, household)
    return record


@login_required
def income_create(request, pk):
    household = _editable_household(request.user, pk)
    latest = selectors.latest_annual_income(household)
    year = latest.year + 1 if latest else timezone.localdate().year
    # A new year's record starts from last year's figures (DOMAIN.md §8: enter each fact once).
    form = IncomeForm(request.POST or None, initial=services.income_record_initial(household, year))
    if request.method == "POST" and form.is_valid() and _save_income(request, household, form):
        return redirect("households:detail", pk=household.pk)
    return render(
        request,
        "households/income_form.html",
        {
            "form": form,
            "household": household,
            "previous": latest,
        },
    )


@login_required
def income_edit(request, pk, income_pk):
    household = _editable_household(request.user, pk)
    record = selectors.get_or_404(household.incomes.all(), pk=income_pk)
    form = IncomeForm(request.POST or None, instance=copy.copy(record))
    if request.method == "POST" and form.is_valid() and _save_income(request, household, form, record):
        return redirect("households:detail", pk=household.pk)
    return render(request, "households/income_form.html", {"form": form, "household": household, "record": record})


@login_required
def quality_report(request):
    """The database finds the failing households (one query over the checks); the Chinese
    findings are worded in Python for the households on the page shown only."""
    check = request.GET.get("check")
    if check not in quality.CHECK_LABELS:
        check = None
    today = timezone.localdate()
    failures = selectors.quality_failures(request.user, today)
    counts = Counter(code for _, codes in failures.values() for code in codes)
    listed = sorted((number, pk) for pk, (number, codes) in failures.items() if check is None or check in codes)
    page = Paginator(listed, QUALITY_PAGE_SIZE).get_page(request.GET.get("page"))
    on_page = quality.prefetch_for_checks(
        selectors.households_visible_to(request.user)
        .select_related("village__parent")
        .filter(pk__in=[pk for _, pk in page.object_list])
        .order_by("number")
    )
    return render(
        request,
        "households/quality.html",
        {
            "page": page,
            "rows": [(household, quality.household_findings(household, today)) for household in on_page],
            "failing": len(failures),
            "check": check,
            "checks": [(code, label, counts[code]) for code, label in quality.CHECKS],
            "clashes": selectors.registry_clashes_for(request.user)[:CLASHES_SHOWN],
        },
    )
