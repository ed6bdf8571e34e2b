"""Pages of self-declarations (issue 12 points 1, 3 and 4).

Public, no login: /declare/ (the form, made for a phone), /declare/done/ (the reference and
what happens next), /declare/status/ (state and, once closed, the reason).
Signed in: the village's queue /declarations/, a cadre's entry /declarations/new/, a
declaration's page with its actions (link, register the household, start a case, close),
and a printable poster per village with the QR code of its own declaration link.
"""

import uuid

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from households import selectors as household_selectors
from households import services as household_services
from households.forms import add_service_errors
from households.models import Area
from households.views import register_household

from ..models import INLINE_EXTENSIONS, Declaration, DeclarationPhoto
from . import limits, selectors, services
from .forms import PLAIN_RISKS, CadreDeclarationForm, CloseForm, PublicDeclarationForm, StatusForm
from .serializers import next_steps_text

SESSION_KEY = "fanpin_declared"
INBOX_SHOWN = 10


def _towns():
    """Towns with their villages, for the chained selects (names only)."""
    return [
        (town, sorted((v for v in town.children.all() if v.level == Area.Level.VILLAGE), key=lambda v: v.path))
        for town in selectors.public_areas().order_by("path")
    ]


def _form_context(form, **extra):
    chosen = str(form["village"].value() or "")
    return {"form": form, "towns": _towns(), "chosen_village": chosen, "plain_risks": PLAIN_RISKS, **extra}


def declare(request):
    """The public declaration form. `?village=<id>` (the poster's QR code) preselects the village."""
    status = 200
    if request.method == "POST":
        form = PublicDeclarationForm(request.POST, request.FILES)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "website"}
            try:
                declaration = services.declaration_submit(client=limits.client_address(request), **data)
            except limits.RateLimited as exc:
                form.add_error(None, exc.message)
                response = render(request, "monitoring/declare.html", _form_context(form), status=429)
                response["Retry-After"] = str(exc.retry_after)
                return response
            request.session[SESSION_KEY] = declaration.pk
            return redirect("declarations:declare-done")
        status = 400
    else:
        village = request.GET.get("village", "")
        form = PublicDeclarationForm(initial={"village": village} if village.isdigit() else None)
    return render(request, "monitoring/declare.html", _form_context(form), status=status)


def declare_done(request):
    """The confirmation: the reference number, what happens next and by when."""
    pk = request.session.get(SESSION_KEY)
    declaration = Declaration.objects.filter(pk=pk).select_related("village__parent__parent").first() if pk else None
    if declaration is None:
        return redirect("declarations:declare")
    step = selectors.next_step(declaration)
    return render(
        request,
        "monitoring/declare_done.html",
        {"declaration": declaration, "step": step, "next_steps": next_steps_text(declaration, step)},
    )


def declare_status(request):
    """Look a declaration up by reference and the ID number's last 6 characters: its state and,
    once closed, the reason; one answer for every mismatch."""
    form = StatusForm(request.GET or None)
    found, missing, code = None, False, 200
    if form.is_bound and form.is_valid():
        try:
            limits.check_and_spend(limits.STATUS_PER_IP, limits.client_address(request))
        except limits.RateLimited as exc:
            form.add_error(None, exc.message)
            response = render(request, "monitoring/declare_status.html", {"form": form}, status=429)
            response["Retry-After"] = str(exc.retry_after)
            return response
        found = selectors.status_lookup(form.cleaned_data["reference"], form.cleaned_data["id_last6"])
        missing = found is None
    return render(
        request, "monitoring/declare_status.html", {"form": form, "found": found, "missing": missing}, status=code
    )


# --- the village's queue -------------------------------------------------------------------


@login_required
def queue(request):
    user = request.user
    state = request.GET.get("state") or Declaration.State.OPEN
    if state not in (*Declaration.State.values, "all"):
        state = Declaration.State.OPEN
    rows = selectors.queue(user, None if state == "all" else state)
    return render(
        request,
        "monitoring/declaration_queue.html",
        {
            "rows": rows[:200],
            "state": state,
            "states": [*Declaration.State.choices, ("all", "全部")],
            "counts": selectors.open_counts_by_village(user),
            "villages": selectors.villages_for_poster(user),
            "may_record": selectors.acts_over_any(user, services.RECORDER_ROLES),
        },
    )


@login_required
def entry(request):
    """A cadre records a declaration received by the hotline, at the window or in the WeChat group."""
    villages = selectors.villages_for_poster(request.user)
    # A client_uuid from the server, as on the visit form: a double tap, or the phone's copy of
    # a post whose answer was lost (static/js/offline_form.js), is stored once.
    form = CadreDeclarationForm(
        request.POST or None, request.FILES or None, village_queryset=villages, initial={"client_uuid": uuid.uuid4()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            declaration = services.declaration_record(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"已登记申报 {declaration.reference}。")
            return redirect("declarations:detail", pk=declaration.pk)
    towns = [(t, [v for v in vs if v in set(villages)]) for t, vs in _towns()]
    return render(
        request,
        "monitoring/declaration_entry.html",
        {**_form_context(form), "towns": [(t, vs) for t, vs in towns if vs]},
    )


def _detail_context(request, declaration, **forms_given):
    user = request.user
    group = selectors.group_of(declaration)
    first = group[0]
    return {
        "declaration": first,
        "group": group,
        "photos": [p for d in group for p in d.photos.all()],
        "suggestions": selectors.suggested_households(user, first),
        "actions": selectors.available_actions(user, first),
        "events": first.events.select_related("actor"),
        "close_form": forms_given.get("close_form") or CloseForm(),
    }


@login_required
def detail(request, pk):
    declaration = selectors.declaration_for(request.user, pk)
    if declaration.duplicate_of_id:
        return redirect("declarations:detail", pk=declaration.duplicate_of_id)
    if declaration.household_id:
        household_services.personal_data_viewed(user=request.user, household=declaration.household, channel="page")
    return render(request, "monitoring/declaration_detail.html", _detail_context(request, declaration))


def _act(request, pk, action, success):
    try:
        action()
    except services.Conflict as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, success)
    return redirect("declarations:detail", pk=pk)


@login_required
@require_POST
def link(request, pk):
    selectors.declaration_for(request.user, pk)
    household = request.POST.get("household", "")
    if not household.isdigit():
        messages.error(request, "请选择要关联的农户。")
        return redirect("declarations:detail", pk=pk)
    return _act(
        request,
        pk,
        lambda: services.declaration_link(user=request.user, declaration_id=pk, household=int(household)),
        "已关联农户。",
    )


@login_required
@require_POST
def start_case(request, pk):
    declaration = selectors.declaration_for(request.user, pk)
    try:
        case = services.declaration_start_case(user=request.user, declaration_id=declaration.pk)
    except services.Conflict as exc:
        messages.error(request, exc.message)
        return redirect("declarations:detail", pk=declaration.pk)
    messages.success(request, "已据申报启动监测对象申报，申报内容和照片已带入。")
    return redirect("monitoring:case-detail", pk=case.pk)


@login_required
@require_POST
def close(request, pk):
    declaration = selectors.declaration_for(request.user, pk)
    form = CloseForm(request.POST)
    if form.is_valid():
        return _act(
            request,
            declaration.pk,
            lambda: services.declaration_close(
                user=request.user, declaration_id=declaration.pk, reason=form.cleaned_data["reason"]
            ),
            "已办结，申报人查询时可以看到办结原因。",
        )
    return render(
        request,
        "monitoring/declaration_detail.html",
        _detail_context(request, declaration, close_form=form),
        status=400,
    )


@login_required
def register(request, pk):
    """Register the declarer's household, starting from the declaration (village, name, ID
    number, phone: nothing typed twice), then back to the declaration, linked."""
    declaration = selectors.declaration_for(request.user, pk)
    if not declaration.is_open:
        messages.error(request, f"该申报{declaration.get_state_display()}。")
        return redirect("declarations:detail", pk=declaration.pk)

    def after_save(household):
        try:
            services.declaration_link(user=request.user, declaration_id=declaration.pk, household=household)
        except services.Conflict as exc:
            raise ValidationError(exc.message) from None
        return reverse("declarations:detail", args=[declaration.pk])

    return register_household(
        request,
        initial={"village": declaration.village_id, "phone": declaration.phone},
        head_initial={"name": declaration.name, "id_number": declaration.id_number, "phone": declaration.phone},
        villages=household_selectors.villages_writable_by(request.user).filter(pk=declaration.village_id),
        after_save=after_save,
        context={
            "intro": f"根据申报 {declaration.reference} 登记该户：申报人已填的信息已带入，保存后回到申报并自动关联。",
            "cancel_url": reverse("declarations:detail", args=[declaration.pk]),
        },
    )


@login_required
def photo(request, pk, photo_pk):
    declaration = selectors.declaration_for(request.user, pk)
    first_id = declaration.duplicate_of_id or declaration.pk
    found = household_selectors.get_or_404(
        DeclarationPhoto.objects.filter(declaration__in=selectors.declarations_visible_to(request.user)).filter(
            declaration_id__in=[d.pk for d in selectors.group_of(declaration)] or [first_id]
        ),
        pk=photo_pk,
    )
    name = found.image.name.rsplit("/", 1)[-1]
    inline = name.rsplit(".", 1)[-1].lower() in INLINE_EXTENSIONS
    return FileResponse(found.image.open("rb"), filename=name, as_attachment=not inline)


@login_required
def poster(request, village_pk):
    """A printable poster for one village: its own declaration link as a QR code."""
    village = household_selectors.get_or_404(selectors.villages_for_poster(request.user), pk=village_pk)
    link = request.build_absolute_uri(reverse("declarations:declare") + f"?village={village.pk}")
    qr = segno.make(link, error="m")
    svg = qr.svg_inline(scale=10, border=2, dark="#000", light="#fff", title=f"{village.name}农户自主申报")
    return render(
        request, "monitoring/declaration_poster.html", {"village": village, "link": link, "qr": mark_safe(svg)}
    )


# --- 我的待办 ----------------------------------------------------------------------------------


def inbox_section(request):
    """Open declarations in 我的待办: the village cadre's to handle, the town's counted per village."""
    user = request.user
    # The count is the sum of the per-village counts (each person once): one query fewer.
    counts = selectors.open_counts_by_village(user)
    count = sum(n for _village, n in counts)
    if not count:
        return ""
    return render_to_string(
        "monitoring/_declaration_inbox.html",
        {
            "rows": list(selectors.queue(user)[:INBOX_SHOWN]),
            "count": count,
            "counts": counts,
            "today": timezone.localdate(),
        },
        request=request,
    )
