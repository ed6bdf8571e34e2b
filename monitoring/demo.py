"""Monitoring cases for the demo county (called by fanpin/demo.py's `build_demo`).

Two phases around the assistance demo: `seed_cases` takes every case up to its state, or, for
the cases on the elimination path, up to 监测帮扶中; fanpin/demo.py then lets the assistance
demo record their measures, and `CaseSeeding.finish()` takes the elimination steps, whose
checklist needs a measure carried out. The workflow never imports the assistance layer.

Every case is written through the workflow services (case_create, case_transition,
objection_record / objection_resolve, visit_create) exactly as cadres would enter it, so
each one carries a complete audit trail and no state is ever set by hand. The demo tells a
story over the past months: the step data carry past dates (discovery, home check, notice,
determination, visits), and each audit row is then dated to the day its step happened so
the timeline reads in order. Only that timestamp is adjusted; what was done, by whom and
from which state to which comes from the services.

Every state appears in the first village of the first town (the `village` login's village,
inside the `town` login's town), so each demo login finds work in its inbox; the other
villages get a realistic spread, mostly cases under monitoring or already eliminated.
"""

import datetime
import random
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from dateutil.relativedelta import relativedelta
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from households import services as household_services
from households.models import Department, Household, IncomeRecord, Member, Role, RoleAssignment
from households.services import INCOME_PARTS

from . import services
from .conditions import category_problem, household_has_labour
from .county_settings import ALWAYS
from .models import (
    CaseEvent,
    Category,
    Channel,
    CountySettings,
    MonitoringCase,
    MonitoringLine,
    Objection,
    RiskType,
    State,
    Visit,
    purging_demo_records,
)

SEED = 20240715

# 防止返贫监测线 for the demo county, yuan per person and year (a per-county, per-year setting).
MONITORING_LINES = {2024: Decimal("7600"), 2025: Decimal("7800"), 2026: Decimal("8000")}
LINE_STEP = Decimal("200")  # later years, should the demo be built after 2026

# Step offsets in days for the identification path, counted from the discovery date. They
# keep the whole path inside the 15-day limit from discovery to determination (7号文).
HOME_CHECK, APPRAISAL, NOTICE_START = 1, 2, 3
MONTHS_BEFORE_ELIMINATION = 200  # determined this many days before the elimination appraisal


@dataclass
class Story:
    """One demo case: the state it ends in and how it gets there."""

    target: str
    days_ago: int = 0  # discovery, for identification and monitored cases
    elim_ago: int = 0  # elimination appraisal, for the elimination path
    notice_start_ago: int = 0  # a notice still running: started this many days ago
    objection: str = ""  # "open" | "dismissed" | "upheld" during the public notice
    county_return: bool = False
    elimination_return: bool = False
    visits: str = "recent"  # monitored cases: "recent" | "overdue" | "none"
    ended_at: str = ""  # rejected / withdrawn: the step at which the case ended
    extra: dict = field(default_factory=dict)


# The first village of the first town: every state at least once, with the variants a
# user should meet (a notice running and one held up by an objection, an upheld objection,
# a return from the county, visits on time and overdue).
FIRST_VILLAGE = [
    Story(State.REPORTED, days_ago=3),
    Story(State.REPORTED, days_ago=1),
    Story(State.VILLAGE_APPRAISAL, days_ago=6),
    Story(State.VILLAGE_APPRAISAL, days_ago=16, objection="upheld"),
    Story(State.PUBLIC_NOTICE, days_ago=6, notice_start_ago=2),
    Story(State.PUBLIC_NOTICE, days_ago=10, objection="open"),
    Story(State.TOWN_REVIEW, days_ago=11, objection="dismissed"),
    Story(State.COUNTY_REVIEW, days_ago=13),
    Story(State.COUNTY_REVIEW, days_ago=25, county_return=True),
    Story(State.MONITORED, days_ago=70, visits="recent"),
    Story(State.MONITORED, days_ago=130, visits="overdue"),
    Story(State.MONITORED, days_ago=32, visits="none"),
    Story(State.ELIMINATION_APPRAISAL, elim_ago=3),
    Story(State.ELIMINATION_NOTICE, elim_ago=4),
    Story(State.ELIMINATION_TOWN_REVIEW, elim_ago=9),
    Story(State.ELIMINATION_COUNTY_REVIEW, elim_ago=12),
    Story(State.ELIMINATED, elim_ago=60),
    Story(State.REJECTED, days_ago=12, ended_at=State.TOWN_REVIEW),
    Story(State.WITHDRAWN, days_ago=5, ended_at=State.REPORTED),
    Story(State.CLOSED, days_ago=250, visits="recent"),
]

# (town index, village index) -> stories, for the rest of the county.
OTHER_VILLAGES = {
    (1, 0): [  # the `village_b` login's village
        Story(State.REPORTED, days_ago=4),
        Story(State.PUBLIC_NOTICE, days_ago=8, notice_start_ago=1),
        Story(State.MONITORED, days_ago=95, visits="recent"),
        Story(State.TOWN_REVIEW, days_ago=12),
        Story(State.ELIMINATED, elim_ago=90),
    ],
    (0, 1): [
        Story(State.MONITORED, days_ago=150, visits="overdue"),
        Story(State.COUNTY_REVIEW, days_ago=12),
        Story(State.REJECTED, days_ago=7, ended_at=State.VILLAGE_APPRAISAL),
    ],
    (0, 2): [
        Story(State.MONITORED, days_ago=45, visits="recent"),
        Story(State.ELIMINATED, elim_ago=40),
    ],
    (0, 3): [
        Story(State.REPORTED, days_ago=2),
        Story(State.MONITORED, elim_ago=30, elimination_return=True),
    ],
    (1, 1): [
        Story(State.MONITORED, days_ago=80, visits="recent"),
        Story(State.WITHDRAWN, days_ago=9, ended_at=State.VILLAGE_APPRAISAL),
    ],
    (1, 2): [
        Story(State.MONITORED, days_ago=200, visits="overdue"),
    ],
    (1, 3): [
        Story(State.ELIMINATED, elim_ago=75),
    ],
    (2, 0): [
        Story(State.TOWN_REVIEW, days_ago=11),
        Story(State.MONITORED, days_ago=60, visits="recent"),
    ],
    (2, 1): [
        Story(State.MONITORED, days_ago=110, visits="recent"),
    ],
    (2, 2): [
        Story(State.ELIMINATED, elim_ago=55),
    ],
    (2, 3): [
        Story(State.MONITORED, days_ago=40, visits="none"),
        Story(State.VILLAGE_APPRAISAL, days_ago=7),
    ],
}

ELIMINATION_PATH = {
    State.ELIMINATION_APPRAISAL,
    State.ELIMINATION_NOTICE,
    State.ELIMINATION_TOWN_REVIEW,
    State.ELIMINATION_COUNTY_REVIEW,
    State.ELIMINATED,
}

GIVEN_NAMES = [
    "建国",
    "秀英",
    "志强",
    "桂兰",
    "海涛",
    "丽娟",
    "德明",
    "春梅",
    "永红",
    "文华",
    "晓东",
    "玉珍",
    "国平",
    "红霞",
    "立新",
    "淑芬",
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"

REASONS = {
    RiskType.ILLNESS: "{head}家中有成员患病，今年以来自付医疗费用约{amount}元，家庭收入难以覆盖。",
    RiskType.DISABILITY: "{head}家中有重度残疾成员需长期照护，一名劳动力无法外出务工，收入明显下降。",
    RiskType.EDUCATION: "{head}家有子女在读，教育支出约{amount}元，家庭负担较重。",
    RiskType.DISASTER: "今年汛期{head}家房屋和农作物受灾，直接损失约{amount}元。",
    RiskType.ACCIDENT: "{head}家主要劳动力意外受伤，住院治疗，自付费用约{amount}元，暂时无法务工。",
    RiskType.EMPLOYMENT: "{head}家务工人员所在企业停工，已返乡数月未找到稳定工作，工资性收入大幅减少。",
    RiskType.INDUSTRY: "{head}家养殖项目受市场价格影响亏损约{amount}元，生产经营性收入明显下降。",
    RiskType.HOUSING: "{head}家住房经鉴定存在安全隐患，需改造加固，自筹资金困难。",
    RiskType.WATER: "{head}家季节性缺水，饮水安全没有保障。",
}
SUDDEN_RISKS = {RiskType.ILLNESS, RiskType.ACCIDENT, RiskType.DISASTER}


@dataclass
class CaseSeeding:
    """What `seed_cases` did: how many cases it created, which are monitored now (for the
    assistance demo's plans) and which of them go on to the elimination steps (`finish`)."""

    created: int = 0
    monitored: list = field(default_factory=list)  # case ids
    eliminating: list = field(default_factory=list)  # case ids, their measures must be carried out
    seeder: object = None

    def finish(self):
        """Take the elimination steps of the cases on that path (after their measures exist)."""
        if self.seeder is not None:
            with transaction.atomic():
                self.seeder.finish()


def seed_cases(*, county, users, today=None, before_determination=None):
    """Create the demo county's monitoring cases, the elimination path stopping at 监测帮扶中;
    return a CaseSeeding (call its `finish()` once the measures are recorded).

    `users` are the demo logins by username (households/demo.py). `before_determination(case=,
    user=, day=)` is called before each county determination, for what the layers above require
    first (screening's asset comparison, fanpin/demo.py passes it; monitoring imports nothing of
    theirs). Idempotent: when the
    county already has cases nothing is added. With very small villages (a test demo of a
    few households each) the stories that find no fitting household are left out.
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        _monitoring_lines(county, today)
        # The demo county keeps signed commitments on paper at the village (a county setting).
        CountySettings.objects.get_or_create(
            county=county, effective_from=ALWAYS, defaults={"commitment_paper_allowed": True}
        )
        if MonitoringCase.objects.filter(household__village__path__startswith=county.path).exists():
            return CaseSeeding()
        seeder = _Seeder(county, users, today, before_determination)
        created = seeder.run()
        monitored = list(
            MonitoringCase.objects.filter(
                household__village__path__startswith=county.path, state=State.MONITORED
            ).values_list("pk", flat=True)
        )
        return CaseSeeding(created, monitored, [p[0].pk for p in seeder.pending], seeder)


def wipe_cases(county):
    """Remove the demo county's cases and visits (`seed_demo --reset`): households are
    protected while cases and visits point at them."""
    under = county.path
    with purging_demo_records():
        MonitoringCase.objects.filter(household__village__path__startswith=under, previous_case__isnull=False).delete()
        MonitoringCase.objects.filter(household__village__path__startswith=under).delete()
        Visit.objects.filter(household__village__path__startswith=under).delete()


def _monitoring_lines(county, today):
    years = sorted(set(MONITORING_LINES) | set(range(min(MONITORING_LINES), today.year + 1)))
    last = max(MONITORING_LINES)
    for year in years:
        amount = MONITORING_LINES.get(year, MONITORING_LINES[last] + LINE_STEP * (year - last))
        MonitoringLine.objects.get_or_create(county=county, year=year, defaults={"amount": amount})


class _Seeder:
    def __init__(self, county, users, today, before_determination=None):
        self.county, self.users, self.today = county, users, today
        self.before_determination = before_determination
        self.rng = random.Random(SEED)
        self.started = timezone.now()
        self.towns = list(county.children.order_by("code"))
        self.villages = {t.pk: list(t.children.order_by("code")) for t in self.towns}
        self.departments = {d.kind: d for d in Department.objects.filter(county=county)}
        self.cadres, self.officials, self.names = {}, {}, {}
        self.document_serial = 0
        self.lines = dict(MonitoringLine.objects.filter(county=county).values_list("year", "amount"))
        self.free = self._candidates()
        self.pending = []  # (case, household, story, cadre, official, county, appraisal_on)

    # --- people ---------------------------------------------------------------------------

    def _name(self):
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN_NAMES)

    def _staff(self, username, role, area, name):
        """A cadre or official who acts in the demo data but has no demo login: the password
        is unusable, so only the printed demo logins can sign in."""
        User = get_user_model()
        user, created = User.objects.get_or_create(username=username, defaults={"first_name": name})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        RoleAssignment.objects.get_or_create(user=user, role=role, area=area, department=None)
        return user

    def cadre(self, village):
        if village.pk not in self.cadres:
            first_town, second_town = self.towns[0], self.towns[1]
            if village == self.villages[first_town.pk][0]:
                user = self.users["village"]
            elif village == self.villages[second_town.pk][0] and "village_b" in self.users:
                user = self.users["village_b"]
            else:
                user = self._staff(f"cadre_{village.code}", Role.VILLAGE_CADRE, village, self._name())
            self.cadres[village.pk] = user
            first = user.get_full_name() or user.username
            second = self._name()
            while second == first:
                second = self._name()
            self.names[village.pk] = [first, second]
        return self.cadres[village.pk]

    def official(self, town):
        if town.pk not in self.officials:
            if town == self.towns[0]:
                self.officials[town.pk] = self.users["town"]
            else:
                self.officials[town.pk] = self._staff(f"official_{town.code}", Role.TOWN_OFFICIAL, town, self._name())
        return self.officials[town.pk]

    # --- households -----------------------------------------------------------------------

    def _candidates(self):
        """Households per village, with what the stories need to know about them."""
        households = (
            Household.objects.filter(village__path__startswith=self.county.path)
            .select_related("village")
            .prefetch_related("members", Prefetch("incomes", IncomeRecord.objects.filter(month__isnull=True)))
            .order_by("number")
        )
        by_village = {}
        for household in households:
            by_village.setdefault(household.village_id, []).append(household)
        return by_village

    def _latest_annual(self, household):
        recent = [r for r in household.incomes.all() if r.month is None and r.year >= self.today.year - 1]
        return max(recent, key=lambda r: r.year) if recent else None

    def _eliminable(self, household):
        """Labour capacity, 两不愁三保障 secured and income comfortably above the line."""
        if not (household_has_labour(household) and household.all_secure):
            return False
        record = self._latest_annual(household)
        year = record.year if record else self.today.year - 1
        if record is None:
            # No income entered for last year yet: the demo enters it from the year before
            # (_income_above_line), so judge by that one.
            annual = [r for r in household.incomes.all() if r.month is None]
            record = max(annual, key=lambda r: r.year) if annual else None
        line = self.lines.get(year)
        return (
            record is not None
            and line is not None
            and record.per_capita_net_income >= line * Decimal("1.1")
            # Rigid spending resolved: per-capita income after it above the line (issue 7 point 5).
            and (record.total_net_income - record.rigid_expenditure) / (record.household_size or 1) > line
        )

    def _income_rank(self, household):
        record = self._latest_annual(household)
        return record.per_capita_net_income if record else Decimal("0")

    def pick(self, village, story):
        """A household of the village for the story: the lowest incomes for new cases, a
        household that meets the elimination criteria for the elimination path."""
        free = self.free.get(village.pk, [])
        needs_elimination = story.target in ELIMINATION_PATH or story.elimination_return
        if needs_elimination:
            pool = [h for h in free if self._eliminable(h)]
            if not pool:
                return None
            household = self.rng.choice(pool)
        else:
            # A category must fit the registry (the notice lists it, the county confirms it):
            # the lowest incomes first, the hardship that led to the report entered as income.
            household = None
            for candidate in sorted(free, key=self._income_rank):
                self._record_hardship(candidate, village)
                if self._fitting_category(candidate):
                    household = candidate
                    break
            if household is None:
                return None
        free.remove(household)
        return household

    def _record_hardship(self, household, village):
        """This year's income as the cadre enters it when the risk appears (seed 004: villages
        enter income as it changes): wages and business down by two thirds, and the self-paid
        medical bill of an illness. Only for a household whose registry income puts it outside
        the monitoring range, so the category the county confirms fits the registry."""
        if not category_problem(household, Category.EDGE) or not category_problem(household, Category.UNSTABLE):
            return
        year = self.today.year
        if any(r.year == year and r.month is None for r in household.incomes.all()):
            return
        parts = household_services.income_record_initial(household, year)
        for name in ("wage_income", "business_income"):
            if name in parts:
                parts[name] = (Decimal(parts[name]) / 3).quantize(Decimal("1"), ROUND_DOWN)
        if any(m.health in (Member.Health.SERIOUS, Member.Health.CHRONIC) for m in household.active_members()):
            parts["medical_expense"] = Decimal(self.rng.randrange(20000, 60000, 500))
        household_services.income_record_save(
            user=self.cadre(village), household=household, note="申报时家庭收入骤减", **{"year": year, **parts}
        )
        # The candidates' incomes were prefetched: read them again.
        getattr(household, "_prefetched_objects_cache", {}).pop("incomes", None)

    # --- dates ----------------------------------------------------------------------------

    def day(self, days_ago):
        return self.today - datetime.timedelta(days=days_ago)

    def _stamp(self, case, day, hour=9):
        """Date the audit rows just written for this case to the day the story says the
        step happened (never later than now, so nothing is dated in the future)."""
        # A running counter of seconds keeps same-day events in the order they were taken.
        self._tick = getattr(self, "_tick", 0) + 1
        when = datetime.datetime.combine(day, datetime.time(hour), timezone.get_current_timezone())
        when = min(when + datetime.timedelta(seconds=self._tick), self.started - datetime.timedelta(seconds=1))
        CaseEvent.objects.filter(case=case, at__gte=self.started).update(at=when)

    # --- the workflow, step by step ---------------------------------------------------------

    def step(self, case, user, name, day, **data):
        case = services.case_transition(user=user, case_id=case.pk, name=name, data=data)
        self._stamp(case, day)
        return case

    def run(self):
        created = 0
        first_town = self.towns[0]
        plan = [(self.villages[first_town.pk][0], story) for story in FIRST_VILLAGE]
        for (t, v), stories in OTHER_VILLAGES.items():
            if t < len(self.towns) and v < len(self.villages[self.towns[t].pk]):
                plan += [(self.villages[self.towns[t].pk][v], story) for story in stories]
        for village, story in plan:
            household = self.pick(village, story)
            if household is not None:
                self.tell(village, household, story)
                created += 1
        return created

    def tell(self, village, household, story):
        town = village.parent
        cadre, official, county = self.cadre(village), self.official(town), self.users["county"]
        rng = self.rng
        if story.target in ELIMINATION_PATH or story.elimination_return:
            discovered = self.day(story.elim_ago + MONTHS_BEFORE_ELIMINATION + 11)
        else:
            discovered = self.day(story.days_ago)
        risk, secondary = self._risks(household)
        head = household.head.name if household.head else household.number
        if story.target in ELIMINATION_PATH or story.elimination_return:
            return self._historical(household, story, discovered, risk, secondary, head, cadre, official, county)
        case = services.case_create(
            user=cadre,
            household=household,
            discovered_on=discovered,
            channel=rng.choice(
                [
                    Channel.CADRE_VISIT,
                    Channel.CADRE_VISIT,
                    Channel.SELF_DECLARED,
                    Channel.DEPARTMENT_WARNING,
                    Channel.PLATFORM_WARNING,
                ]
            ),
            reason=REASONS.get(risk, "{head}家庭收入明显下降，存在返贫致贫风险。").format(
                head=head, amount=rng.randrange(8000, 60000, 500)
            ),
            primary_risk=risk,
            secondary_risks=secondary,
            contact_person=cadre,
        )
        self._stamp(case, discovered)
        d = lambda offset: discovered + datetime.timedelta(days=offset)  # noqa: E731

        if story.target == State.WITHDRAWN and story.ended_at == State.REPORTED:
            return self.step(
                case, cadre, "withdraw", self.today, comment="农户主动撤回申请：家中务工人员已重新就业，收入恢复。"
            )
        if story.target == State.REPORTED:
            return case

        # The village cadre (a user) and a second, named person: two different people; the
        # signed commitment kept on paper at the village (the demo county allows it).
        case = self.step(
            case,
            cadre,
            "start_appraisal",
            d(HOME_CHECK),
            home_check_on=d(HOME_CHECK),
            home_checker_users=[cadre.pk],
            home_checkers=self.names[village.pk][1],
            home_check_note="入户核实，家庭情况与申报一致。",
            commitment_signed_on=d(HOME_CHECK),
            commitment_archive_ref=f"{village.name}承诺书〔{d(HOME_CHECK).year}〕{case.pk}号",
        )
        if story.target == State.VILLAGE_APPRAISAL and not story.objection:
            return case
        if story.target == State.WITHDRAWN:
            return self.step(case, cadre, "withdraw", self.today, comment="农户主动撤回申请，已签字确认。")
        if story.target == State.REJECTED and story.ended_at == State.VILLAGE_APPRAISAL:
            return self.step(
                case,
                cadre,
                "reject",
                self.today,
                comment=f"{d(APPRAISAL)} 民主评议不同意纳入：该户有稳定经营收入，不符合纳入条件。",
            )

        notice_start = self.day(story.notice_start_ago) if story.notice_start_ago else d(NOTICE_START)
        case = self._publish(case, cadre, d(APPRAISAL), notice_start, village)
        if story.objection:
            raised_on = notice_start + datetime.timedelta(days=1)
            objection = services.objection_record(
                user=cadre,
                case_id=case.pk,
                raised_by="匿名",
                raised_on=raised_on,
                content="反映该户家中有小轿车一辆，经营小卖部，收入情况与申报不符。",
            )
            self._stamp(case, raised_on)
            if story.objection == "open":
                return case
            resolved_on = raised_on + datetime.timedelta(days=1)
            upheld = story.objection == "upheld"
            services.objection_resolve(
                user=cadre,
                objection_id=objection.pk,
                upheld=upheld,
                resolution=(
                    "经入户核实，该户确有小轿车一辆（家庭成员名下），需重新评议。"
                    if upheld
                    else "经入户核实，车辆为亲属借用，小卖部已于去年停业，异议不成立。"
                ),
            )
            Objection.objects.filter(pk=objection.pk).update(
                resolved_at=datetime.datetime.combine(resolved_on, datetime.time(15), timezone.get_current_timezone())
            )
            self._stamp(case, resolved_on)
            if upheld:
                return MonitoringCase.objects.get(pk=case.pk)
        if story.target == State.PUBLIC_NOTICE:
            return case

        closed_on = case.notice_end + datetime.timedelta(days=1)
        case = self.step(
            case,
            cadre,
            "close_notice",
            closed_on,
            comment="异议已处理，公示期满。" if story.objection else "公示期满无异议。",
        )
        if story.target == State.TOWN_REVIEW:
            return case
        if story.target == State.REJECTED and story.ended_at == State.TOWN_REVIEW:
            return self.step(
                case,
                official,
                "reject",
                self.today,
                comment="经乡镇核查及信息比对，家庭成员名下有商品房一套，不符合纳入条件。",
            )

        reviewed_on = closed_on + datetime.timedelta(days=1)
        case = self.step(
            case,
            official,
            "town_approve",
            reviewed_on,
            reviewed_on=reviewed_on,
            comment="经核查，情况属实，同意上报县级审批。",
        )
        if story.county_return:
            case = self.step(
                case,
                county,
                "county_return",
                reviewed_on + datetime.timedelta(days=1),
                comment="请补充该户近三个月医疗费用票据。",
            )
            reviewed_on += datetime.timedelta(days=3)
            case = self.step(
                case,
                official,
                "town_approve",
                reviewed_on,
                reviewed_on=reviewed_on,
                comment="已补充医疗费用票据，同意上报。",
            )
        if story.target == State.COUNTY_REVIEW:
            return case
        if story.target == State.REJECTED:
            return self.step(
                case, county, "reject", self.today, comment="信息比对发现家庭成员为财政供养人员，不予纳入。"
            )

        determined_on = min(reviewed_on + datetime.timedelta(days=2), self.today)
        if self.before_determination is not None:
            self.before_determination(case=case, user=county, day=determined_on)
            self._stamp(case, determined_on)
        self.document_serial += 1
        case = self.step(
            case,
            county,
            "county_approve",
            determined_on,
            category=self._category(household, risk),
            primary_risk=risk,
            secondary_risks=secondary,
            determined_on=determined_on,
            document_number=f"清乡振〔{determined_on.year}〕{self.document_serial}号",
            comment="同意纳入监测，落实帮扶措施。",
        )
        # (The elimination path starts as a historical case: _historical.)
        self._visits(case, household, cadre, determined_on, story)
        if story.target == State.CLOSED:
            # 自然减少 follows registry facts: every member has moved out (recorded in the registry).
            for member in household.active_members():
                household_services.member_update(user=cadre, member=member, status=Member.Status.MOVED_OUT)
            return self.step(
                case, county, "close", self.today, comment="全户已迁入城镇落户并注销农村户籍，按自然减少处理。"
            )
        return case

    def finish(self):
        for pending in self.pending:
            self._eliminate(*pending)
        self.pending = []

    def _historical(self, household, story, discovered, risk, secondary, head, cadre, official, county):
        """A case determined before the county used fanpin, brought in by the county officer
        with its original document number (the explicit historical path), then monitored
        (visits) and, once the assistance demo has recorded its measure, taken through the
        elimination steps (finish)."""
        determined_on = discovered + datetime.timedelta(days=10)
        self.document_serial += 1
        category = Category.UNSTABLE if household.household_type == Household.Type.FORMERLY_POOR else Category.EDGE
        case = services.case_import_historical(
            user=county,
            household=household,
            channel=Channel.CADRE_VISIT,
            discovered_on=discovered,
            reason=REASONS.get(risk, "{head}家庭收入明显下降，存在返贫致贫风险。").format(
                head=head, amount=self.rng.randrange(8000, 60000, 500)
            ),
            category=category,
            primary_risk=risk,
            secondary_risks=secondary,
            determined_on=determined_on,
            document_number=f"清乡振〔{determined_on.year}〕{self.document_serial}号",
            contact_person=cadre,
            comment="系统启用前已认定，按原认定文件补录。",
        )
        self._stamp(case, determined_on)
        appraisal_on = self.day(story.elim_ago)
        self._visits(case, household, cadre, determined_on, story, until=appraisal_on)
        self.pending.append((case, household, story, cadre, official, county, appraisal_on))
        return case

    def _publish(self, case, cadre, appraisal_on, notice_start, village):
        return self.step(
            case,
            cadre,
            "publish_notice",
            notice_start,
            appraisal_on=appraisal_on,
            appraisal_attendance=self.rng.randint(9, 21),
            appraisal_result="approved",
            appraisal_minutes=f"{village.name}村民代表会议民主评议，参会代表一致同意纳入监测。",
            category=self._category(case.household, case.primary_risk),
            notice_start=notice_start,
        )

    def _eliminate(self, case, household, story, cadre, official, county, appraisal_on):
        self._income_above_line(household, cadre, since=appraisal_on)
        case = self.step(
            case,
            cadre,
            "propose_elimination",
            appraisal_on,
            appraisal_on=appraisal_on,
            comment="帮扶措施已落实，家庭收入稳定高于监测线，提出风险消除。",
        )
        if story.target == State.ELIMINATION_APPRAISAL:
            return case
        start = appraisal_on + datetime.timedelta(days=2)
        case = self.step(case, cadre, "publish_elimination_notice", start, notice_start=start)
        if story.target == State.ELIMINATION_NOTICE:
            return case
        closed_on = case.elimination_notice_end + datetime.timedelta(days=1)
        case = self.step(case, cadre, "close_elimination_notice", closed_on, comment="公示期满无异议。")
        accepted_on = closed_on + datetime.timedelta(days=1)
        if story.elimination_return:
            return self.step(
                case,
                official,
                "elimination_return",
                accepted_on,
                comment="务工收入来源尚不稳定，继续监测帮扶三个月后再评议。",
            )
        if story.target == State.ELIMINATION_TOWN_REVIEW:
            return case
        case = self.step(
            case,
            official,
            "town_accept_elimination",
            accepted_on,
            reviewed_on=accepted_on,
            comment="经入户验收，帮扶措施落实到位，收入稳定，同意风险消除。",
        )
        if story.target == State.ELIMINATION_COUNTY_REVIEW:
            return case
        eliminated_on = accepted_on + datetime.timedelta(days=2)
        return self.step(
            case,
            county,
            "county_approve_elimination",
            eliminated_on,
            eliminated_on=eliminated_on,
            reason="stable",
            comment="同意标注风险消除，部分帮扶政策延续至期满。",
        )

    # --- facts around the workflow ------------------------------------------------------------

    def _risks(self, household):
        members = household.active_members()
        if any(m.health in (Member.Health.SERIOUS, Member.Health.CHRONIC) for m in members):
            risk = RiskType.ILLNESS
        elif any(m.is_severely_disabled for m in members):
            risk = RiskType.DISABILITY
        elif not household.housing_secure:
            risk = RiskType.HOUSING
        elif not household.water_secure:
            risk = RiskType.WATER
        elif any(m.schooling for m in members) and self.rng.random() < 0.5:
            risk = RiskType.EDUCATION
        else:
            risk = self.rng.choice(
                [RiskType.EMPLOYMENT, RiskType.EMPLOYMENT, RiskType.INDUSTRY, RiskType.DISASTER, RiskType.ACCIDENT]
            )
        secondary = [RiskType.EMPLOYMENT] if risk != RiskType.EMPLOYMENT and self.rng.random() < 0.3 else []
        return risk, secondary

    def _fitting_category(self, household):
        return any(not category_problem(household, c) for c in Category.values)

    def _category(self, household, risk):
        preferred = self._preferred_category(household, risk)
        if not category_problem(household, preferred):
            return preferred
        return next((c for c in Category.values if not category_problem(household, c)), preferred)

    def _preferred_category(self, household, risk):
        if household.household_type == Household.Type.FORMERLY_POOR:
            return Category.UNSTABLE
        if risk in SUDDEN_RISKS and self.rng.random() < 0.6:
            return Category.SUDDEN
        return Category.EDGE

    def _visits(self, case, household, cadre, determined_on, story, until=None):
        """Monthly home visits after determination (seed 003 篇三). "overdue": the last one
        was over a month ago; "none": determined recently, not visited yet."""
        if story.visits == "none":
            return
        end = until or self.today
        last = end - datetime.timedelta(days=48 if story.visits == "overdue" else self.rng.randint(3, 12))
        # Monthly, counted back from the last visit; the last three months are enough for
        # the timeline (older ones add rows, not meaning).
        days = [last - datetime.timedelta(days=30 * n) for n in range(3)]
        days = [day for day in reversed(days) if day > determined_on]
        findings = [
            "家庭成员身体状况稳定，帮扶措施正在落实。",
            "务工人员已返岗，收入逐步恢复。",
            "“两不愁三保障”及饮水安全均有保障，无新增风险。",
            "了解生产生活情况，宣传帮扶政策。",
        ]
        for visited_on in days:
            services.visit_create(
                user=cadre,
                household=household,
                visited_on=visited_on,
                visitors="、".join(self.names[household.village_id]),
                findings=self.rng.choice(findings),
                next_step="继续跟踪帮扶措施落实情况，下月再访。",
                **{f"{key}_secure": getattr(household, f"{key}_secure") for key, _ in Household.SECURITY_ITEMS},
            )
            self._stamp(case, visited_on, hour=12)

    def _income_above_line(self, household, cadre, since):
        """The monthly income entries (seed 004: villages enter income monthly) from half a year
        before the elimination appraisal (`since`) to last month, showing income stably above
        the line at every elimination step, entered through the registry's service."""
        annual = self._latest_annual(household)
        if annual is None:
            year = self.today.year - 1
            annual = household_services.income_record_save(
                user=cadre, household=household, **household_services.income_record_initial(household, year)
            )
        first = since.replace(day=1) - relativedelta(months=6)
        last = self.today.replace(day=1) - relativedelta(months=1)
        months = []
        while first <= last:
            months.append(first)
            first += relativedelta(months=1)
        for month in months:
            if IncomeRecord.objects.filter(household=household, year=month.year, month=month.month).exists():
                continue
            parts = {name: (getattr(annual, name) / 12).quantize(Decimal("1"), ROUND_DOWN) for name in INCOME_PARTS}
            household_services.income_record_save(
                user=cadre, household=household, year=month.year, month=month.month, note="月度收入监测", **parts
            )
