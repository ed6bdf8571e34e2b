"""The demo county, put together in one place (`python manage.py seed_demo`).

Each layer builds its own part, bottom up, and nothing lower imports anything higher:
the registry (households/demo.py) → monitoring cases up to 监测帮扶中 (monitoring/demo.py) →
their assistance measures (assistance/demo.py) → the elimination steps, which need a measure
carried out (monitoring/demo.py, `CaseSeeding.finish`) → warnings (screening/demo.py) → the
demo village's self-declarations (monitoring/declarations/demo.py). A reset wipes top down. Every case
state is built through the workflow's services.
"""

from django.contrib.auth import get_user_model
from django.db import transaction

from assistance import demo as assistance_demo
from households import demo as households_demo
from monitoring import demo as monitoring_demo
from monitoring.declarations import demo as declarations_demo
from screening import demo as screening_demo

demo_county = households_demo.demo_county


def build_demo(*, stdout=None, households_per_village=50, reset=False, password=None):
    """Build (or, with reset=True, rebuild) the demo county; return the demo logins.

    Idempotent: an existing demo county is left as it is, except that the logins are brought up
    to date (a changed DEMO_PASSWORD takes effect on the next run)."""
    write = stdout.write if stdout else (lambda message: None)
    with transaction.atomic():
        county = households_demo.demo_county()
        if county and reset:
            write(f"清除演示数据：{county.name}")
            wipe_demo(county)
        registry = households_demo.build_registry(
            stdout=stdout, households_per_village=households_per_village, password=password
        )
        helpers = assistance_demo.demo_helpers(password=registry.password)
        if registry.created:
            seeding = monitoring_demo.seed_cases(
                county=registry.county,
                users=registry.users,
                before_determination=screening_demo.record_comparison,
            )
            assistance_demo.assign_helpers(
                county=registry.county, helpers=helpers, cases=seeding.monitored, eliminating=seeding.eliminating
            )
            measures = assistance_demo.seed_measures(
                county=registry.county, cases=seeding.monitored, eliminating=seeding.eliminating
            )
            seeding.finish()
            write(f"生成监测对象 {seeding.created} 个（覆盖全部 14 个状态），帮扶措施 {measures} 项")
            warnings = screening_demo.seed_warnings(county=registry.county, users=registry.users)
            write(f"上传上月部门数据（医保、残联、住建、民政），生成预警 {warnings} 条")
            declarations = declarations_demo.seed_declarations(county=registry.county, users=registry.users)
            write(f"农户自主申报 {declarations} 份（待核实、热线登记、已办结、已启动申报）")
    return registry.logins() + assistance_demo.helper_logins(helpers, households_demo.Login, registry.password)


def existing_logins():
    """The demo logins that exist in the database, for the login page in demo mode. Read only:
    the rows come from the users' role assignments as they stand."""
    usernames = [*households_demo.DEMO_NAMES, *assistance_demo.HELPER_USERNAMES]
    found = (
        get_user_model()
        .objects.filter(username__in=usernames, is_active=True)
        .prefetch_related("roles__area", "roles__department")
    )
    by_name = {user.username: user for user in found}
    rows = []
    for username in usernames:
        user = by_name.get(username)
        if user is None:
            continue
        assignments = list(user.roles.all())
        role = "、".join(a.get_role_display() for a in assignments) or "帮扶联系人"
        scope = "、".join(a.area.name if a.area else a.department.name if a.department else "全部" for a in assignments)
        rows.append(households_demo.Login(username, role, scope or "分配给本人的监测对象", ""))
    return rows


def wipe_demo(county):
    """Remove the demo county, top layer first (measures, cases and visits, then the registry)."""
    screening_demo.wipe_warnings(county)
    assistance_demo.wipe_measures(county)
    declarations_demo.wipe_declarations(county)
    monitoring_demo.wipe_cases(county)
    households_demo.wipe_registry(county)
