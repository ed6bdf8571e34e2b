"""Areas, roles and the household registry (DOMAIN.md §1-2, §9)."""

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from . import idnumber
from .text import TextCheckedModel, normalize_phone, validate_phone


class Area(models.Model):
    """A county, town or village. `path` ("/3/17/102/") makes "everything under X" one
    indexed prefix match, which is how every scoped query filters."""

    class Level(models.TextChoices):
        COUNTY = "county", "县"
        TOWN = "town", "乡镇"
        VILLAGE = "village", "村"

    PARENT_LEVEL = {Level.TOWN: Level.COUNTY, Level.VILLAGE: Level.TOWN}

    name = models.CharField("名称", max_length=100)
    code = models.CharField("行政区划代码", max_length=20, unique=True)
    level = models.CharField("层级", max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, editable=False, db_index=True)
    # Printed on the household cards (一户一码) of the villages below; a village without one
    # prints its town's, then its county's.
    hotline = models.CharField(
        "咨询电话",
        max_length=20,
        blank=True,
        # Short service numbers such as 12317 too, not only mobiles and landlines.
        validators=[RegexValidator(r"^\d[\d-]{2,18}\d$", "电话号码只能包含数字和“-”，如 12317 或 0371-12345678。")],
        help_text="印在一户一码卡片上；村未设置时用乡镇的，再用县的",
    )

    class Meta:
        verbose_name = verbose_name_plural = "行政区域"
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level="county", parent__isnull=True)
                | Q(level__in=["town", "village"], parent__isnull=False),
                name="area_parent_matches_level",
            ),
            models.UniqueConstraint(fields=["parent", "name"], name="area_unique_name_in_parent"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # The path is derived data: it needs the primary key, so a new row is saved twice.
        super().save(*args, **kwargs)
        path = (self.parent.path if self.parent else "/") + f"{self.pk}/"
        if path != self.path:
            self.path = path
            Area.objects.filter(pk=self.pk).update(path=path)

    def clean(self):
        from django.core.exceptions import ValidationError

        expected = self.PARENT_LEVEL.get(self.level)
        if expected and (self.parent is None or self.parent.level != expected):
            raise ValidationError({"parent": f"{self.get_level_display()}的上级必须是{self.Level(expected).label}。"})
        if self.level == self.Level.COUNTY and self.parent is not None:
            raise ValidationError({"parent": "县没有上级区域。"})

    @property
    def county(self):
        node = self
        while node.parent_id:
            node = node.parent
        return node

    def card_hotline(self):
        """The number printed on this village's household cards: its own, else the nearest
        area above it that has one ("" when none has)."""
        area = self
        while area is not None:
            if area.hotline:
                return area.hotline
            area = area.parent
        return ""

    def full_name(self):
        names = []
        node = self
        while node:
            names.append(node.name)
            node = node.parent
        return "".join(reversed(names))


class Department(models.Model):
    """A line department of one county that shares screening data (DOMAIN.md §6)."""

    class Kind(models.TextChoices):
        RURAL_REVITALIZATION = "rural", "乡村振兴"
        EDUCATION = "education", "教育"
        CIVIL_AFFAIRS = "civil_affairs", "民政"
        HUMAN_RESOURCES = "human_resources", "人社"
        HOUSING = "housing", "住建"
        WATER = "water", "水务"
        HEALTH = "health", "卫健"
        EMERGENCY = "emergency", "应急管理"
        MEDICAL_INSURANCE = "medical_insurance", "医保"
        FINANCE = "finance", "金融"
        DISABLED_FEDERATION = "disabled_federation", "残联"
        # The asset cross-check 信息比对 at identification (DOMAIN.md §3, §6): the county's
        # lists of what people own or earn, matched to the members of households under review.
        VEHICLES = "vehicles", "公安车管"
        PROPERTY = "property", "不动产登记"
        BUSINESS = "business", "市场监管"
        PAYROLL = "payroll", "财政供养"
        HOUSING_FUND = "housing_fund", "公积金"

    county = models.ForeignKey(
        Area,
        verbose_name="县",
        on_delete=models.PROTECT,
        related_name="departments",
        limit_choices_to={"level": Area.Level.COUNTY},
    )
    kind = models.CharField("部门", max_length=30, choices=Kind.choices)
    name = models.CharField("名称", max_length=100)

    class Meta:
        verbose_name = verbose_name_plural = "行业部门"
        constraints = [models.UniqueConstraint(fields=["county", "kind"], name="department_unique_kind")]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    VILLAGE_CADRE = "village_cadre", "村干部/驻村工作队"
    TOWN_OFFICIAL = "town_official", "乡镇干部"
    COUNTY_OFFICER = "county_officer", "县乡村振兴局"
    DEPARTMENT_STAFF = "department_staff", "行业部门人员"
    ADMINISTRATOR = "administrator", "系统管理员"


ROLE_AREA_LEVEL = {
    Role.VILLAGE_CADRE: Area.Level.VILLAGE,
    Role.TOWN_OFFICIAL: Area.Level.TOWN,
    Role.COUNTY_OFFICER: Area.Level.COUNTY,
}


class RoleAssignment(models.Model):
    """One role of one user, bound to an area (or a department, or the whole deployment)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE, related_name="roles"
    )
    role = models.CharField("角色", max_length=30, choices=Role.choices)
    area = models.ForeignKey(Area, verbose_name="区域", null=True, blank=True, on_delete=models.PROTECT)
    department = models.ForeignKey(Department, verbose_name="部门", null=True, blank=True, on_delete=models.PROTECT)

    class Meta:
        verbose_name = verbose_name_plural = "角色分配"
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    role__in=["village_cadre", "town_official", "county_officer"],
                    area__isnull=False,
                    department__isnull=True,
                )
                | Q(role="department_staff", area__isnull=True, department__isnull=False)
                | Q(role="administrator", area__isnull=True, department__isnull=True),
                name="role_binding_matches_role",
            ),
            models.UniqueConstraint(fields=["user", "role", "area", "department"], name="role_unique"),
        ]

    def __str__(self):
        target = self.area or self.department or "全部"
        return f"{self.user} · {self.get_role_display()} · {target}"

    def clean(self):
        from django.core.exceptions import ValidationError

        level = ROLE_AREA_LEVEL.get(self.role)
        if level:
            if self.area is None or self.area.level != level:
                raise ValidationError({"area": f"{self.get_role_display()}必须绑定到{Area.Level(level).label}。"})
            if self.department_id:
                raise ValidationError({"department": "区域角色不绑定部门。"})
        elif self.role == Role.DEPARTMENT_STAFF:
            if self.department_id is None or self.area_id:
                raise ValidationError({"department": "行业部门人员必须且只能绑定一个部门。"})
        elif self.area_id or self.department_id:
            raise ValidationError({"area": "系统管理员不绑定区域或部门。"})


def new_card_token():
    """The household card's QR token (一户一码): 128 random bits, not derived from the id, so
    a card tells nothing and no one can guess another household's."""
    return secrets.token_urlsafe(16)


class Household(TextCheckedModel):
    class Type(models.TextChoices):
        FORMERLY_POOR = "formerly_poor", "脱贫户"
        ORDINARY = "ordinary", "一般农户"

    # 两不愁三保障 + drinking water: (field prefix, label).
    SECURITY_ITEMS = [
        ("food", "吃"),
        ("clothing", "穿"),
        ("education", "义务教育"),
        ("medical", "基本医疗"),
        ("housing", "住房安全"),
        ("water", "饮水安全"),
    ]

    number = models.CharField("户编号", max_length=30, unique=True)
    village = models.ForeignKey(
        Area,
        verbose_name="所属村",
        on_delete=models.PROTECT,
        related_name="households",
        limit_choices_to={"level": Area.Level.VILLAGE},
    )
    address = models.CharField("住址", max_length=200, blank=True)
    phone = models.CharField("联系电话", max_length=20, blank=True)
    household_type = models.CharField("户类型", max_length=20, choices=Type.choices, default=Type.ORDINARY)
    relocated = models.BooleanField("易地扶贫搬迁户", default=False)
    bank_account = models.CharField("银行账号", max_length=40, blank=True)
    bank_name = models.CharField("开户银行", max_length=60, blank=True)

    food_secure = models.BooleanField("吃不愁", default=True)
    food_note = models.CharField("吃·说明", max_length=200, blank=True)
    clothing_secure = models.BooleanField("穿不愁", default=True)
    clothing_note = models.CharField("穿·说明", max_length=200, blank=True)
    education_secure = models.BooleanField("义务教育有保障", default=True)
    education_note = models.CharField("义务教育·说明", max_length=200, blank=True)
    medical_secure = models.BooleanField("基本医疗有保障", default=True)
    medical_note = models.CharField("基本医疗·说明", max_length=200, blank=True)
    housing_secure = models.BooleanField("住房安全有保障", default=True)
    housing_note = models.CharField("住房安全·说明", max_length=200, blank=True)
    water_secure = models.BooleanField("饮水安全有保障", default=True)
    water_note = models.CharField("饮水安全·说明", max_length=200, blank=True)

    created_at = models.DateTimeField("登记时间", default=timezone.now, editable=False)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    card_token = models.CharField("一户一码标识", max_length=32, unique=True, default=new_card_token, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "农户"
        ordering = ["number"]
        # Leads with the area (the registry's queries filter village_id IN the scope's areas);
        # the id included so a page of ids is read from the index alone. The trigram indexes
        # for search are PostgreSQL's only: migration 0009.
        indexes = [models.Index(fields=["village", "number"], include=["id"], name="household_village_number")]

    def __str__(self):
        return self.number

    def clean(self):
        from django.core.exceptions import ValidationError

        self.phone = normalize_phone(self.phone)
        try:
            validate_phone(self.phone)
        except ValidationError as exc:
            raise ValidationError({"phone": exc.messages}) from None

    def security_status(self):
        """[(label, secure, note)] for 两不愁三保障 and water, in display order."""
        return [
            (label, getattr(self, f"{key}_secure"), getattr(self, f"{key}_note")) for key, label in self.SECURITY_ITEMS
        ]

    @property
    def all_secure(self):
        return all(getattr(self, f"{key}_secure") for key, _ in self.SECURITY_ITEMS)

    def active_members(self):
        """Members counted in the household size; uses a prefetch when present."""
        return [m for m in self.members.all() if m.status == Member.Status.ACTIVE]

    @property
    def head(self):
        for m in self.members.all():
            if m.relation == Member.Relation.HEAD and m.status == Member.Status.ACTIVE:
                return m
        return None

    @property
    def masked_phone(self):
        return mask_phone(self.phone)


def mask_phone(phone):
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


class Member(TextCheckedModel):
    class Relation(models.TextChoices):
        HEAD = "head", "户主"
        SPOUSE = "spouse", "配偶"
        CHILD = "child", "子女"
        CHILD_IN_LAW = "child_in_law", "儿媳/女婿"
        GRANDCHILD = "grandchild", "孙子女/外孙子女"
        PARENT = "parent", "父母"
        GRANDPARENT = "grandparent", "祖父母/外祖父母"
        SIBLING = "sibling", "兄弟姐妹"
        OTHER = "other", "其他"

    class Status(models.TextChoices):
        ACTIVE = "active", "在户"
        DECEASED = "deceased", "死亡"
        MOVED_OUT = "moved_out", "迁出"

    class Sex(models.TextChoices):
        MALE = "M", "男"
        FEMALE = "F", "女"

    class Health(models.TextChoices):
        HEALTHY = "healthy", "健康"
        CHRONIC = "chronic", "长期慢性病"
        SERIOUS = "serious", "大病"
        DISABLED = "disabled", "残疾"

    class DisabilityCategory(models.TextChoices):
        NONE = "", "无"
        VISUAL = "visual", "视力残疾"
        HEARING = "hearing", "听力残疾"
        SPEECH = "speech", "言语残疾"
        PHYSICAL = "physical", "肢体残疾"
        INTELLECTUAL = "intellectual", "智力残疾"
        MENTAL = "mental", "精神残疾"
        MULTIPLE = "multiple", "多重残疾"

    class Labour(models.TextChoices):
        NORMAL = "normal", "普通劳动力"
        WEAK = "weak", "弱劳动力或半劳动力"
        LOST = "lost", "丧失劳动力"
        NONE = "none", "无劳动力"

    class Schooling(models.TextChoices):
        NONE = "", "非在校生"
        PRESCHOOL = "preschool", "学前教育"
        PRIMARY = "primary", "小学"
        JUNIOR = "junior", "初中"
        SENIOR = "senior", "高中"
        VOCATIONAL = "vocational", "中职/技工"
        HIGHER = "higher", "大专及以上"

    class WorkPlace(models.TextChoices):
        NONE = "", "未务工"
        IN_COUNTY = "in_county", "县内"
        IN_PROVINCE = "in_province", "省内县外"
        OUT_PROVINCE = "out_province", "省外"

    household = models.ForeignKey(Household, verbose_name="农户", on_delete=models.CASCADE, related_name="members")
    id_number = models.CharField(
        "身份证号",
        max_length=18,
        unique=True,
        validators=[idnumber.validate],
        error_messages={"unique": "该身份证号已在登记册中（另一农户或本户）存在，同一身份证号不能登记两次。"},
    )
    name = models.CharField("姓名", max_length=50)
    sex = models.CharField("性别", max_length=1, choices=Sex.choices, editable=False)
    birth_date = models.DateField("出生日期", editable=False)
    relation = models.CharField("与户主关系", max_length=20, choices=Relation.choices)
    status = models.CharField("人员状态", max_length=20, choices=Status.choices, default=Status.ACTIVE)
    phone = models.CharField("联系电话", max_length=20, blank=True)
    health = models.CharField("健康状况", max_length=20, choices=Health.choices, default=Health.HEALTHY)
    disability_category = models.CharField(
        "残疾类别", max_length=20, choices=DisabilityCategory.choices, blank=True, default=""
    )
    disability_level = models.PositiveSmallIntegerField(
        "残疾等级", null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    labour_capacity = models.CharField("劳动能力", max_length=20, choices=Labour.choices, default=Labour.NORMAL)
    schooling = models.CharField("在校生情况", max_length=20, choices=Schooling.choices, blank=True, default="")
    work_place = models.CharField("务工地点", max_length=20, choices=WorkPlace.choices, blank=True, default="")
    work_months = models.PositiveSmallIntegerField("务工时间（月）", default=0, validators=[MaxValueValidator(12)])
    medical_insurance = models.BooleanField("参加城乡居民基本医疗保险", default=True)
    pension_insurance = models.BooleanField("参加城乡居民基本养老保险", default=False)
    dibao = models.BooleanField("享受低保", default=False)
    tekun = models.BooleanField("特困供养", default=False)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "家庭成员"
        ordering = ["household_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(disability_level__isnull=True) | Q(disability_level__gte=1, disability_level__lte=4),
                name="member_disability_level_1_4",
            ),
            models.CheckConstraint(
                condition=Q(disability_level__isnull=True) | ~Q(disability_category=""),
                name="member_disability_level_needs_category",
            ),
            models.CheckConstraint(condition=Q(work_months__lte=12), name="member_work_months_max_12"),
            models.CheckConstraint(condition=Q(sex__in=["M", "F"]), name="member_sex_valid"),
            # One head per household among the people living there.
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(relation="head", status="active"),
                name="member_one_head_per_household",
            ),
        ]

    def __str__(self):
        return f"{self.name}（{self.masked_id}）"

    @property
    def masked_id(self):
        return idnumber.mask(self.id_number)

    def clean(self):
        """Normalise the ID number and derive birth date and sex from it (GB 11643)."""
        from django.core.exceptions import ValidationError

        errors = {}
        self.phone = normalize_phone(self.phone)
        try:
            validate_phone(self.phone)
        except ValidationError as exc:
            errors["phone"] = exc.messages
        try:
            self.apply_id_number(self.id_number)
        except ValidationError as exc:
            # Sex and birth date derive from the number; left unset (NULL passes the check
            # constraint) so the error is reported once, on the ID number, not as a
            # "constraint member_sex_valid" message the user cannot act on.
            self.sex = self.birth_date = None
            errors["id_number"] = exc.messages
        if self.disability_level and not self.disability_category:
            errors["disability_category"] = ["填写残疾等级时必须选择残疾类别。"]
        if errors:
            raise ValidationError(errors)

    def full_clean(self, *args, **kwargs):
        # clean_fields() (the field validator) and clean() both check the ID number:
        # report each message once.
        from django.core.exceptions import ValidationError

        try:
            super().full_clean(*args, **kwargs)
        except ValidationError as exc:
            raise ValidationError(
                {field: list(dict.fromkeys(messages)) for field, messages in exc.message_dict.items()}
            ) from None

    def apply_id_number(self, value):
        parsed = idnumber.parse(value)
        self.id_number, self.birth_date, self.sex = parsed.number, parsed.birth_date, parsed.sex
        return parsed

    @property
    def is_severely_disabled(self):
        """Levels 1-2, and 3-4 for mental or intellectual disability, count as severe."""
        if not self.disability_level:
            return False
        if self.disability_level <= 2:
            return True
        return self.disability_category in (self.DisabilityCategory.MENTAL, self.DisabilityCategory.INTELLECTUAL)

    def age_on(self, day=None):
        return idnumber.age_on(self.birth_date, day or timezone.localdate())

    @property
    def age(self):
        return self.age_on()

    @property
    def is_disabled(self):
        return bool(self.disability_category) or self.health == self.Health.DISABLED


SEVERE_DISABILITY_Q = Q(disability_level__in=[1, 2]) | Q(
    disability_level__in=[3, 4], disability_category__in=["mental", "intellectual"]
)
DISABLED_Q = ~Q(disability_category="") | Q(health="disabled")


class IncomeRecord(TextCheckedModel):
    """A household's income for a year (month empty) or a month (seed 004: monthly entries).

    Totals and per-capita income are computed on the server from the parts; the household
    size is the number of members living there when the record is saved.
    """

    household = models.ForeignKey(Household, verbose_name="农户", on_delete=models.CASCADE, related_name="incomes")
    year = models.PositiveSmallIntegerField("年度", validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    month = models.PositiveSmallIntegerField(
        "月份",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text="留空表示全年收入",
    )
    wage_income = models.DecimalField("工资性收入", max_digits=12, decimal_places=2, default=Decimal("0"))
    business_income = models.DecimalField("生产经营性收入", max_digits=12, decimal_places=2, default=Decimal("0"))
    business_costs = models.DecimalField("生产经营性支出", max_digits=12, decimal_places=2, default=Decimal("0"))
    property_income = models.DecimalField("财产性收入", max_digits=12, decimal_places=2, default=Decimal("0"))
    transfer_income = models.DecimalField("转移性收入", max_digits=12, decimal_places=2, default=Decimal("0"))
    policy_transfer_income = models.DecimalField(
        "其中：政策性转移收入", max_digits=12, decimal_places=2, default=Decimal("0")
    )
    medical_expense = models.DecimalField("自付医疗支出", max_digits=12, decimal_places=2, default=Decimal("0"))
    education_expense = models.DecimalField("教育支出", max_digits=12, decimal_places=2, default=Decimal("0"))
    total_net_income = models.DecimalField("家庭纯收入", max_digits=12, decimal_places=2, editable=False)
    household_size = models.PositiveSmallIntegerField("家庭人口", editable=False)
    per_capita_net_income = models.DecimalField("人均纯收入", max_digits=12, decimal_places=2, editable=False)
    note = models.CharField("备注", max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "收入记录"
        ordering = ["household_id", "-year", "-month"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "year"], condition=Q(month__isnull=True), name="income_one_annual_per_year"
            ),
            models.UniqueConstraint(fields=["household", "year", "month"], name="income_one_per_month"),
            models.CheckConstraint(
                condition=Q(
                    wage_income__gte=0,
                    business_income__gte=0,
                    business_costs__gte=0,
                    property_income__gte=0,
                    transfer_income__gte=0,
                    policy_transfer_income__gte=0,
                    medical_expense__gte=0,
                    education_expense__gte=0,
                ),
                name="income_parts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(policy_transfer_income__lte=models.F("transfer_income")),
                name="income_policy_within_transfer",
            ),
            models.CheckConstraint(
                condition=Q(month__isnull=True) | Q(month__gte=1, month__lte=12), name="income_month_1_12"
            ),
        ]

    def __str__(self):
        return f"{self.household_id} {self.period_label}"

    @property
    def period_label(self):
        return f"{self.year}年{self.month}月" if self.month else f"{self.year}年"

    @property
    def net_business_income(self):
        return self.business_income - self.business_costs

    def computed_total(self):
        return self.wage_income + self.net_business_income + self.property_income + self.transfer_income

    @property
    def rigid_expenditure(self):
        return self.medical_expense + self.education_expense


def per_capita(total, size):
    if not size:
        return Decimal("0.00")
    return (Decimal(total) / size).quantize(Decimal("0.01"))


class PersonalDataView(models.Model):
    """The access log (DOMAIN.md §9): each time a user sees full ID numbers or phones (every full
    view is logged), and each export of case data (台账, 月报: who, when, the filters, how many
    rows). Rows are only ever added: nothing edits or deletes them (admin read-only, no API)."""

    class Action(models.TextChoices):
        VIEW = "view", "查看完整证件号/电话"
        EXPORT = "export", "导出"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="查看人", on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField("操作", max_length=10, choices=Action.choices, default=Action.VIEW)
    household = models.ForeignKey(
        Household, verbose_name="农户", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    channel = models.CharField("渠道", max_length=10, choices=[("page", "页面"), ("api", "接口"), ("task", "后台任务")])
    viewed_at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    # Exports: which one, with which filters (as the list's query), how many rows, in whose area.
    export_name = models.CharField("导出内容", max_length=50, blank=True)
    filters = models.JSONField("筛选条件", default=dict, blank=True)
    row_count = models.PositiveIntegerField("行数", null=True, blank=True)
    area = models.ForeignKey(
        Area,
        verbose_name="导出范围",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="导出人的工作范围（县级访问日志按此筛选）",
    )

    class Meta:
        verbose_name = verbose_name_plural = "个人信息访问记录"
        ordering = ["-viewed_at", "-pk"]
        indexes = [models.Index(fields=["user", "-viewed_at"], name="access_user_recent")]

    def __str__(self):
        if self.action == self.Action.EXPORT:
            return f"{self.user} 导出{self.export_name}（{self.row_count} 行）"
        return f"{self.user} 查看 {self.household}（{self.get_channel_display()}）"


def import_upload_path(job, filename):
    # Grouped by month; the original name (kept in original_name) may repeat, storage makes it unique.
    return timezone.now().strftime("imports/%Y/%m/") + filename


class ImportJob(models.Model):
    """One registry file uploaded on the import page, imported in the background.

    The file is kept after the import (and after a failure) so that what was imported can
    be checked later. The report is stored as JSON (households.import_jobs.report_as_json),
    shaped as the import page shows it.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "正在导入"
        DONE = "done", "已完成"
        FAILED = "failed", "导入失败"

    class Step(models.TextChoices):
        # The steps of households.importer.import_registry, as its progress callback names them.
        READ = "read", "读取文件"
        CHECK = "check", "核对数据"
        WRITE = "write", "保存到登记库"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.PROTECT, related_name="import_jobs"
    )
    file = models.FileField("上传的文件", upload_to=import_upload_path, max_length=255)
    original_name = models.CharField("原文件名", max_length=255)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    step = models.CharField("当前步骤", max_length=10, choices=Step.choices, blank=True)
    rows_done = models.PositiveIntegerField("已处理行数", default=0)
    rows_total = models.PositiveIntegerField("总行数", null=True, blank=True)
    created_at = models.DateTimeField("上传时间", default=timezone.now)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    summary = models.CharField("结果摘要", max_length=200, blank=True)
    report = models.JSONField("导入结果", null=True, blank=True)
    error_message = models.TextField("失败原因", blank=True)
    # Which run this is (1 for the first): a job whose worker died is run again from its file
    # (households.import_jobs.import_jobs_sweep), at most import_jobs.MAX_ATTEMPTS times.
    attempt = models.PositiveSmallIntegerField("导入次数", default=0)
    # Moved on by every progress report: a running job that has not moved for a while lost its worker.
    heartbeat_at = models.DateTimeField("最近进展", null=True, blank=True)
    # Shown on the job page while queued (households.broker: the broker could not be reached).
    notice = models.CharField("提示", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "批量导入任务"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "-created_at"], name="importjob_user_recent")]

    def __str__(self):
        return f"{self.original_name}（{self.get_status_display()}）"

    @property
    def is_finished(self):
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self):
        """0-100, or None while the file is being read (its length is not known yet). Checking
        counts as the first half and writing as the second: they take comparable time
        (bench/README.md)."""
        if self.status == self.Status.DONE:
            return 100
        if self.status != self.Status.RUNNING or self.step not in (self.Step.CHECK, self.Step.WRITE):
            return 0 if self.status == self.Status.QUEUED else None
        share = self.rows_done / self.rows_total if self.rows_total else 1
        return int((share + (self.step == self.Step.WRITE)) * 50)


class RegistryClash(models.Model):
    """A refused entry whose ID number or household number is already registered in a
    household the person entering it may not see (issue 14 finding 6). They are told only
    that the number cannot be registered here; the county sees both sides in the
    data-quality report and settles which record is right."""

    class Field(models.TextChoices):
        ID_NUMBER = "id_number", "身份证号"
        NUMBER = "number", "户编号"

    field = models.CharField("冲突项", max_length=20, choices=Field.choices)
    value = models.CharField("号码", max_length=40)
    existing_household = models.ForeignKey(
        Household, verbose_name="已登记的农户", on_delete=models.CASCADE, related_name="+"
    )
    attempted_village = models.ForeignKey(
        Area, verbose_name="录入的村", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    attempted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    channel = models.CharField("渠道", max_length=10, choices=[("entry", "页面或接口"), ("import", "批量导入")])
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "登记冲突"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_field_display()} {self.masked_value}"

    @property
    def masked_value(self):
        return idnumber.mask(self.value) if self.field == self.Field.ID_NUMBER else self.value
