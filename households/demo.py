"""A realistic demo county for trying fanpin out (`python manage.py seed_demo`).

One county, three towns, twelve villages and about 600 households with members, three years
of income and the six demo logins of issue 2. Everything is drawn from a seeded random
generator, so two builds on the same day produce the same people.

The registry is written with bulk_create (a few dozen queries in all), which skips
full_clean(): the generator itself keeps every row valid (GB 11643 ID numbers, birth dates
that fit the relation to the head, nobody under 16, at school or unable to work registered
as working), and tests/test_demo.py runs the data-quality checks over the result.
"""

import datetime
import random
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from . import idnumber
from .models import Area, Department, Household, IncomeRecord, Member, Role, RoleAssignment, per_capita
from .services import INCOME_PARTS

SEED = 20240601
COUNTY = ("清河县", "440983")
# Town -> villages. Codes follow the 统计用区划代码 shape: county + 3-digit town + 3-digit village.
TOWNS = [
    ("城关镇", ["东关村", "西关村", "河湾村", "杨家庄村"]),
    ("柳林镇", ["柳林村", "北坡村", "王家营村", "小河口村"]),
    ("石桥乡", ["石桥村", "高家岭村", "马坊村", "南沟村"]),
]
INCOME_YEARS = (2023, 2024, 2025)
DEPARTMENT_NAMES = {
    Department.Kind.RURAL_REVITALIZATION: "乡村振兴局",
    Department.Kind.EDUCATION: "教育局",
    Department.Kind.CIVIL_AFFAIRS: "民政局",
    Department.Kind.HUMAN_RESOURCES: "人力资源和社会保障局",
    Department.Kind.HOUSING: "住房和城乡建设局",
    Department.Kind.WATER: "水务局",
    Department.Kind.HEALTH: "卫生健康局",
    Department.Kind.EMERGENCY: "应急管理局",
    Department.Kind.MEDICAL_INSURANCE: "医疗保障局",
    Department.Kind.FINANCE: "金融工作办公室",
    Department.Kind.DISABLED_FEDERATION: "残疾人联合会",
    Department.Kind.VEHICLES: "公安局交通管理大队车辆管理所",
    Department.Kind.PROPERTY: "不动产登记中心",
    Department.Kind.BUSINESS: "市场监督管理局",
    Department.Kind.PAYROLL: "财政局",
    Department.Kind.HOUSING_FUND: "住房公积金管理中心",
}

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高梁郑谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁"
    "任卢姚沈钟姜崔谭陆范汪廖石金贾夏付方邹熊白孟秦邱侯江尹薛段雷龙史陶贺毛郝顾龚邵万武钱严孔常汤"
)
MALE_GIVEN = "伟强军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆国建志庆春林海东成祥德福旺根生宝山金"
FEMALE_GIVEN = "芳娜敏静丽艳娟霞秀英华慧巧美玲桂兰凤红梅琴云莲珍燕萍雪婷玉洁秋月翠琳佳欣悦彤雅"
PARTNER_SEX = {"M": "F", "F": "M"}
MONTHLY_WAGE = {  # yuan per month worked, by place of work
    Member.WorkPlace.IN_COUNTY: (2300, 3600),
    Member.WorkPlace.IN_PROVINCE: (3200, 4800),
    Member.WorkPlace.OUT_PROVINCE: (4200, 6500),
}
SCHOOL_STAGES = [  # (from age, to age, stage)
    (3, 5, Member.Schooling.PRESCHOOL),
    (6, 11, Member.Schooling.PRIMARY),
    (12, 14, Member.Schooling.JUNIOR),
]
SECURITY_PROBLEMS = {
    "housing": ["房屋经鉴定为C级危房，正在申请改造", "雨季屋顶漏雨，需维修加固"],
    "water": ["季节性缺水，旱季需到邻组挑水", "自备井水质检测不达标"],
    "medical": ["有成员未参加城乡居民基本医疗保险", "慢性病门诊费用负担较重"],
    "education": ["有适龄儿童辍学在家，正在劝返"],
}
# Roughly one household in this many carries a deliberate data-quality problem, so the
# quality report has something realistic to show.
DELIBERATE_FINDING_EVERY = 150


@dataclass
class Login:
    username: str
    role: str
    scope: str
    password: str


def demo_password():
    return getattr(settings, "FANPIN_DEMO_PASSWORD", None) or "fanpin-demo"


def demo_county():
    return Area.objects.filter(code=COUNTY[1], level=Area.Level.COUNTY).first()


@dataclass
class Registry:
    """What build_registry made: the county, the demo users by username, and whether the
    registry was created now (False: it already existed and was left as it was)."""

    county: Area
    users: dict
    created: bool
    password: str

    def logins(self):
        return [_login_row(user, self.password) for user in self.users.values()]


def build_registry(*, stdout=None, households_per_village=50, password=None):
    """Build the demo county's areas, departments, registry and logins (fanpin/demo.py builds
    the layers above on it). Idempotent: when the demo county already exists its registry is
    left as it is; the logins are always brought up to date, so a changed DEMO_PASSWORD takes
    effect on the next run."""
    password = password or demo_password()
    write = stdout.write if stdout else (lambda message: None)
    with transaction.atomic():
        county = demo_county()
        created = county is None
        if created:
            county = _build_areas()
            _build_departments(county)
            write(f"生成演示县：{county.name}（{len(TOWNS)} 个乡镇，{sum(len(v) for _, v in TOWNS)} 个村）")
        users = _build_users(county, password)
        if created:
            count = _build_registry(county, households_per_village, random.Random(SEED))
            write(
                f"生成农户 {count} 户，成员 {Member.objects.filter(household__village__path__startswith=county.path).count()} 人"
            )
        else:
            write(f"演示县 {county.name} 已存在，未重复生成（使用 --reset 重建）。")
    return Registry(county, users, created, password)


def wipe_registry(county):
    """Delete the demo county's registry, departments, areas and demo role bindings (the
    layers above wipe theirs first: cases protect their households)."""
    under = county.path
    RoleAssignment.objects.filter(area__path__startswith=under).delete()
    RoleAssignment.objects.filter(department__county=county).delete()
    Household.objects.filter(village__path__startswith=under).delete()
    Department.objects.filter(county=county).delete()
    # Children before parents: Area.parent is PROTECT.
    for level in (Area.Level.VILLAGE, Area.Level.TOWN, Area.Level.COUNTY):
        Area.objects.filter(path__startswith=under, level=level).delete()


def _build_areas():
    name, code = COUNTY
    county = Area.objects.create(name=name, code=code, level=Area.Level.COUNTY)
    for t, (town_name, villages) in enumerate(TOWNS, start=1):
        town = Area.objects.create(name=town_name, code=f"{code}{100 + t:03d}", level=Area.Level.TOWN, parent=county)
        for v, village_name in enumerate(villages, start=1):
            Area.objects.create(
                name=village_name, code=f"{town.code}{200 + v:03d}", level=Area.Level.VILLAGE, parent=town
            )
    return county


def _build_departments(county):
    Department.objects.bulk_create(
        [
            Department(county=county, kind=kind, name=f"{county.name}{DEPARTMENT_NAMES.get(kind, kind.label)}")
            for kind in Department.Kind
        ]
    )


DEMO_NAMES = {
    "admin": "系统管理员",
    "county": "陈志强",
    "town": "刘建华",
    "village": "王秀英",
    "village_b": "赵国庆",
    "medical": "孙丽",
}


def _build_users(county, password):
    """The six demo logins of issue 2, keyed by username."""
    towns = list(county.children.order_by("code"))
    first_village = towns[0].children.order_by("code").first()
    second_town_village = towns[1].children.order_by("code").first()
    medical = Department.objects.get(county=county, kind=Department.Kind.MEDICAL_INSURANCE)
    bindings = {
        "admin": (Role.ADMINISTRATOR, None, None),
        "county": (Role.COUNTY_OFFICER, county, None),
        "town": (Role.TOWN_OFFICIAL, towns[0], None),
        "village": (Role.VILLAGE_CADRE, first_village, None),
        "village_b": (Role.VILLAGE_CADRE, second_town_village, None),
        "medical": (Role.DEPARTMENT_STAFF, None, medical),
    }
    User = get_user_model()
    users = {}
    for username, (role, area, department) in bindings.items():
        user, _ = User.objects.get_or_create(username=username)
        user.set_password(password)
        user.is_active = True
        # Chinese names are written whole, family name first, so they go in first_name.
        user.first_name, user.last_name = DEMO_NAMES[username], ""
        if username == "admin":
            user.is_staff = user.is_superuser = True
        user.save()
        RoleAssignment.objects.get_or_create(user=user, role=role, area=area, department=department)
        users[username] = user
    return users


def _login_row(user, password):
    assignments = RoleAssignment.objects.filter(user=user).select_related("area", "department")
    roles = "、".join(a.get_role_display() for a in assignments)
    scope = "、".join(
        a.area.full_name() if a.area else a.department.name if a.department else "全部" for a in assignments
    )
    return Login(user.username, roles, scope, password)


def format_logins(logins):
    """A plain-text table of the demo logins (printed by seed_demo and scripts/run.sh)."""
    header = Login("用户名", "角色", "范围", "密码")
    rows = [header, *logins]
    widths = [max(_width(getattr(r, f)) for r in rows) for f in ("username", "role", "scope", "password")]
    lines = []
    for i, row in enumerate(rows):
        cells = [row.username, row.role, row.scope, row.password]
        lines.append("  ".join(c + " " * (w - _width(c)) for c, w in zip(cells, widths, strict=True)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _width(text):
    # CJK characters take two terminal columns.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


# --- The registry ------------------------------------------------------------------------


class _People:
    """Draws people with unique, valid ID numbers of the county's area code."""

    def __init__(self, rng, area_code, today):
        self.rng, self.area_code, self.today = rng, area_code, today
        self.taken = set(Member.objects.filter(id_number__startswith=area_code).values_list("id_number", flat=True))

    def birth_date(self, age):
        """A birth date at which the person is exactly `age` today."""
        latest = _years_before(self.today, age)
        return latest - datetime.timedelta(days=self.rng.randint(0, 364))

    def id_number(self, birth, sex):
        while True:
            sequence = self.rng.randrange(1 if sex == "M" else 0, 1000, 2)
            number = idnumber.make(self.area_code, birth, sequence)
            if number not in self.taken:
                self.taken.add(number)
                return number

    def name(self, sex, surname=None):
        given = MALE_GIVEN if sex == "M" else FEMALE_GIVEN
        length = 1 if self.rng.random() < 0.35 else 2
        return (surname or self.rng.choice(SURNAMES)) + "".join(self.rng.choice(given) for _ in range(length))


def _years_before(day, years):
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _build_registry(county, households_per_village, rng):
    today = timezone.localdate()
    people = _People(rng, county.code[:6], today)
    villages = list(Area.objects.filter(path__startswith=county.path, level=Area.Level.VILLAGE).order_by("code"))
    households, member_lists = [], []
    serial = 0
    for village in villages:
        for n in range(1, households_per_village + 1):
            serial += 1
            members = _draw_family(rng, people, today)
            household = _draw_household(rng, village, n, members)
            if serial % DELIBERATE_FINDING_EVERY == 0:
                _add_deliberate_finding(members, today)
            households.append(household)
            member_lists.append(members)
    Household.objects.bulk_create(households, batch_size=500)
    all_members = []
    for household, members in zip(households, member_lists, strict=True):
        for member in members:
            member.household = household
            all_members.append(member)
    Member.objects.bulk_create(all_members, batch_size=500)
    IncomeRecord.objects.bulk_create(
        [
            record
            for household, members in zip(households, member_lists, strict=True)
            for record in _draw_incomes(rng, household, members, today)
        ],
        batch_size=500,
    )
    return len(households)


def _person(rng, people, today, *, relation, age, sex, surname=None):
    birth = people.birth_date(age)
    member = Member(
        id_number=people.id_number(birth, sex),
        name=people.name(sex, surname),
        relation=relation,
        birth_date=birth,
        sex=sex,
    )
    _draw_circumstances(rng, member, idnumber.age_on(birth, today))
    return member


def _draw_family(rng, people, today):
    """A head aged 30-75 and up to five relatives whose ages fit their relation."""
    head_age = rng.randint(30, 75)
    head_sex = "M" if rng.random() < 0.82 else "F"
    head = _person(rng, people, today, relation=Member.Relation.HEAD, age=head_age, sex=head_sex)
    surname = head.name[0]
    family = [head]
    if (head_age < 72 and rng.random() < 0.8) or rng.random() < 0.3:
        spouse_age = min(max(head_age + rng.randint(-5, 4), 22), 85)
        family.append(
            _person(rng, people, today, relation=Member.Relation.SPOUSE, age=spouse_age, sex=PARTNER_SEX[head_sex])
        )
    # Children born when the head was 22-38; older children have often left the household.
    for _ in range(rng.choice([0, 1, 1, 2, 2, 2, 3])):
        child_age = head_age - rng.randint(22, 38)
        if child_age < 0 or (child_age > 28 and rng.random() < 0.7) or len(family) >= 6:
            continue
        child = _person(
            rng, people, today, relation=Member.Relation.CHILD, age=child_age, sex=rng.choice("MF"), surname=surname
        )
        family.append(child)
        if child_age >= 26 and rng.random() < 0.5 and len(family) <= 4:
            grandchild_age = child_age - rng.randint(22, 30)
            if grandchild_age >= 0:
                family.append(
                    _person(
                        rng,
                        people,
                        today,
                        relation=Member.Relation.GRANDCHILD,
                        age=grandchild_age,
                        sex=rng.choice("MF"),
                        surname=surname,
                    )
                )
    if head_age < 58 and rng.random() < 0.3 and len(family) < 6:
        parent_age = min(head_age + rng.randint(22, 34), 95)
        family.append(
            _person(
                rng,
                people,
                today,
                relation=Member.Relation.PARENT,
                age=parent_age,
                sex=rng.choice("MF"),
                surname=surname,
            )
        )
    _ensure_a_wage_earner(rng, family, today)
    if len(family) > 2 and rng.random() < 0.03:
        # A grown child who has moved out stays on record but is not counted (DOMAIN.md §8).
        moved = family[-1]
        if moved.relation == Member.Relation.CHILD and moved.age_on(today) >= 18:
            moved.status = Member.Status.MOVED_OUT
    return family[:6]


def _ensure_a_wage_earner(rng, family, today):
    """Most families with an able adult have someone in paid work; a few do not, and those
    are the low-income households the monitoring rules should find."""
    able = [m for m in family if m.labour_capacity == Member.Labour.NORMAL and 16 <= m.age_on(today) <= 60]
    if able and not any(m.work_place for m in family) and rng.random() < 0.93:
        _give_work(rng, rng.choice(able))


def _give_work(rng, member):
    member.work_place = rng.choice(
        [
            Member.WorkPlace.IN_COUNTY,
            Member.WorkPlace.IN_COUNTY,
            Member.WorkPlace.IN_PROVINCE,
            Member.WorkPlace.OUT_PROVINCE,
        ]
    )
    member.work_months = rng.randint(4, 12)


def _draw_circumstances(rng, member, age):
    """Health, disability, labour capacity, schooling, work and insurance that fit the age."""
    roll = rng.random()
    old = age >= 60
    if roll < (0.05 if old else 0.02):
        member.health = Member.Health.SERIOUS
    elif roll < (0.28 if old else 0.07):
        member.health = Member.Health.CHRONIC
    elif roll < (0.33 if old else 0.10):
        member.health = Member.Health.DISABLED
        member.disability_category = rng.choice([c for c, _ in Member.DisabilityCategory.choices if c])
        member.disability_level = rng.choice([1, 2, 3, 3, 4, 4])

    for low, high, stage in SCHOOL_STAGES:
        if low <= age <= high:
            member.schooling = stage
    if 15 <= age <= 17 and rng.random() < 0.9:
        member.schooling = rng.choice([Member.Schooling.SENIOR, Member.Schooling.SENIOR, Member.Schooling.VOCATIONAL])
    elif 18 <= age <= 21 and rng.random() < 0.35:
        member.schooling = Member.Schooling.HIGHER

    if age < 16 or member.schooling:
        member.labour_capacity = Member.Labour.NONE
    elif member.is_severely_disabled or age >= 80:
        member.labour_capacity = Member.Labour.LOST
    elif member.health in (Member.Health.SERIOUS, Member.Health.DISABLED) or age >= 65:
        member.labour_capacity = Member.Labour.WEAK
    else:
        member.labour_capacity = Member.Labour.NORMAL

    able = member.labour_capacity in (Member.Labour.NORMAL, Member.Labour.WEAK)
    if able and 16 <= age <= 60 and rng.random() < (0.7 if member.labour_capacity == Member.Labour.NORMAL else 0.25):
        _give_work(rng, member)
    member.medical_insurance = rng.random() < 0.985
    member.pension_insurance = age >= 16 and not member.schooling and rng.random() < 0.85


def _add_deliberate_finding(members, today):
    """Register a student (or a child) as working: the quality report should catch it."""
    young = [m for m in members if m.schooling or m.age_on(today) < 16]
    if young:
        young[0].work_place = Member.WorkPlace.IN_COUNTY
        young[0].work_months = 2


def _draw_household(rng, village, n, members):
    head = members[0]
    weak = all(m.labour_capacity != Member.Labour.NORMAL for m in members)
    formerly_poor = rng.random() < (0.55 if weak else 0.27)
    household = Household(
        number=f"{village.code}{n:03d}",
        village=village,
        address=f"{village.name}{rng.randint(1, 8)}组{rng.randint(1, 120)}号",
        phone=f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}",
        household_type=Household.Type.FORMERLY_POOR if formerly_poor else Household.Type.ORDINARY,
        relocated=formerly_poor and rng.random() < 0.12,
    )
    head.phone = household.phone
    if formerly_poor and rng.random() < 0.7:
        household.bank_name = "农村商业银行"
        household.bank_account = "6230" + "".join(str(rng.randint(0, 9)) for _ in range(15))
    for key, notes in SECURITY_PROBLEMS.items():
        chance = {"housing": 0.025, "water": 0.015, "medical": 0.012, "education": 0.004}[key]
        if rng.random() < chance:
            setattr(household, f"{key}_secure", False)
            setattr(household, f"{key}_note", rng.choice(notes))
    if weak and household.household_type == Household.Type.FORMERLY_POOR and rng.random() < 0.5:
        # Households without labour live on 低保; a lone, old person without labour on 特困.
        solitary = len(members) == 1 and members[0].labour_capacity == Member.Labour.LOST
        for member in members:
            member.tekun, member.dibao = (True, False) if solitary else (False, True)
    return household


def _draw_incomes(rng, household, members, today):
    """One annual record per year; totals via IncomeRecord.computed_total and per_capita."""
    active = [m for m in members if m.status == Member.Status.ACTIVE]
    base = _income_parts(rng, active, today)
    records = []
    growth = Decimal("1")
    for year in INCOME_YEARS:
        parts = {name: (value * growth).quantize(Decimal("1")) for name, value in base.items()}
        parts["policy_transfer_income"] = min(parts["policy_transfer_income"], parts["transfer_income"])
        record = IncomeRecord(household=household, year=year, **parts)
        record.total_net_income = record.computed_total()
        record.household_size = len(active)
        record.per_capita_net_income = per_capita(record.total_net_income, record.household_size)
        records.append(record)
        growth *= Decimal(str(round(rng.uniform(1.0, 1.09), 3)))
    return records


def _income_parts(rng, active, today):
    parts = dict.fromkeys(INCOME_PARTS, Decimal("0"))
    wage = sum(m.work_months * rng.randint(*MONTHLY_WAGE[m.work_place]) for m in active if m.work_place)
    farming = rng.randint(4000, 18000) if any(m.labour_capacity != Member.Labour.NONE for m in active) else 0
    pension = sum(12 * rng.randint(150, 260) for m in active if m.age_on(today) >= 60)
    assistance = sum(12 * rng.randint(380, 520) for m in active if m.dibao or m.tekun)
    remittance = rng.choice([0, 0, 0, 1200, 3000])
    medical = sum(rng.randint(800, 15000) for m in active if m.health in (Member.Health.CHRONIC, Member.Health.SERIOUS))
    education = sum(rng.randint(500, 6000) for m in active if m.schooling)
    parts.update(
        wage_income=Decimal(wage),
        business_income=Decimal(farming),
        business_costs=Decimal(int(farming * rng.uniform(0.25, 0.45))),
        property_income=Decimal(rng.choice([0, 0, 300, 800, 1500])),
        transfer_income=Decimal(pension + assistance + remittance),
        policy_transfer_income=Decimal(pension + assistance),
        medical_expense=Decimal(medical),
        education_expense=Decimal(education),
    )
    return parts
