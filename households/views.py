# Pages: being written (issue 2). Names are fixed by households/urls.py.
from django.http import HttpResponse


def _todo(request, *args, **kwargs):
    return HttpResponse(status=501)


home = household_list = household_create = quality_report = household_detail = household_edit = _todo
member_create = member_edit = income_create = income_edit = _todo
