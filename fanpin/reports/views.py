"""The county's outputs (issue 11): dashboard, ledger, monthly report, access log. Thin: a
selector or service, then a template or a file."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from . import selectors


@login_required
def dashboard(request):
    if not selectors.may_see_dashboard(request.user):
        raise PermissionDenied("统计看板供村、乡镇和县级干部查看。")
    board = selectors.dashboard(request.user)
    return render(request, "reports/dashboard.html", {"board": board, "charts": board.charts})
