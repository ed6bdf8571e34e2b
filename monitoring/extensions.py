"""Extension points for the layers built on monitoring (DOMAIN layers: assistance and
screening stand on monitoring). Monitoring never imports them: the functions that add to its
pages are named in settings, as Django names AUTHENTICATION_BACKENDS.

- FANPIN_CASE_PAGE_SECTIONS: `f(request, case) -> html` shown on the case page
- FANPIN_INBOX_SECTIONS: `f(request) -> html` shown in 我的待办
- FANPIN_CASE_CONDITIONS: name -> `f() -> Q` on cases, for the case filters (e.g. plan_overdue)
"""

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.safestring import mark_safe


def _functions(setting):
    return [import_string(path) for path in getattr(settings, setting, ())]


def page_sections(setting, *args):
    """The HTML each named function renders (from a template, so escaped), empty ones left out."""
    return [mark_safe(html) for html in (f(*args) for f in _functions(setting)) if html]


def case_condition(name):
    """The Q on MonitoringCase that the function named in FANPIN_CASE_CONDITIONS[name] returns."""
    return import_string(settings.FANPIN_CASE_CONDITIONS[name])()
