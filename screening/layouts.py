"""What each department sends: one declaration per Department.Kind (DOMAIN.md §6, seed 004 §三(三)).

A layout is data: the columns after the ID number and name (which every layout has), with
their header synonyms, kind of value and whether they must be filled; the columns that, with
the ID number, identify one record of the file (a 医保 file holds one row per visit, so a
person appears once per visit date); and which column is the row's main figure, date and code,
kept in typed columns of ScreeningRow for the rules of the warnings that read them. Adding a
department is one more `Layout(...)` in LAYOUTS; reading, validation, matching, the template and
the bad-rows download all follow from it.
"""

from dataclasses import dataclass, field
from functools import cached_property

from households.models import Department
from households.spreadsheets import normalize_header

Kind = Department.Kind


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    aliases: tuple[str, ...] = ()
    kind: str = "text"  # text, amount, date, bool, int, choice
    required: bool = False
    # kind "choice": (stored value, accepted spellings); the value is also accepted.
    choices: tuple[tuple[str, tuple[str, ...]], ...] = ()
    minimum: int | None = None  # kind "int"
    maximum: int | None = None
    note: str = ""  # shown in the template's 填写说明
    sample: str = ""  # the template's example row

    @cached_property
    def choice_lookup(self) -> dict[str, str]:
        lookup: dict[str, str] = {}
        for value, spellings in self.choices:
            for text in (value, *spellings):
                lookup.setdefault(normalize_header(text), value)
        return lookup

    def allowed(self) -> str:
        return "、".join(value for value, _ in self.choices)


ID_COLUMN = Column(
    "id_number",
    "身份证号",
    ("身份证号码", "公民身份号码", "公民身份证号码", "证件号码", "证件号", "身份证", "社会保障号码", "社保卡号"),
    "id",
    True,
    note="18 位，最后一位可以是 X；请把该列设为文本格式，否则 Excel 会把号码改成科学计数法",
)
NAME_COLUMN = Column(
    "name", "姓名", ("人员姓名", "参保人姓名", "参保人", "患者姓名", "学生姓名", "残疾人姓名", "户主姓名", "名字"),
    "text", True,
)  # fmt: skip
YES_NO = (("是", ("Y", "YES", "1", "√", "住院")), ("否", ("N", "NO", "0", "×", "门诊")))


@dataclass(frozen=True)
class Layout:
    kind: str
    title: str  # the sheet title of the template
    columns: tuple[Column, ...]  # after the ID number and name
    key: tuple[str, ...] = ()  # with the ID number, what identifies one record of the file
    amount: str = ""  # the row's main figure (ScreeningRow.amount)
    event_date: str = ""  # ScreeningRow.event_date
    code: str = ""  # ScreeningRow.code (a category, grade or status)
    frequency: str = "每月"
    notes: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        return str(Kind(self.kind).label)

    @cached_property
    def all_columns(self) -> tuple[Column, ...]:
        return (ID_COLUMN, NAME_COLUMN, *self.columns)

    @cached_property
    def by_key(self) -> dict[str, Column]:
        return {c.key: c for c in self.all_columns}

    @cached_property
    def lookup(self) -> dict[str, Column]:
        """Normalised header text (canonical header or a synonym) -> column."""
        lookup: dict[str, Column] = {}
        for column in self.all_columns:
            for text in (column.header, *column.aliases):
                lookup.setdefault(normalize_header(text), column)
                # "医疗总费用(元)" / "逾期天数（天）" are how offices add the unit.
                for unit in ("(元)", "(天)", "(日)"):
                    lookup.setdefault(normalize_header(text + unit), column)
        return lookup


def _amount(key: str, header: str, *aliases: str, required: bool = False, sample: str = "") -> Column:
    return Column(key, header, aliases, "amount", required, note="金额（元），可带两位小数", sample=sample)


def _date(key: str, header: str, *aliases: str, required: bool = False, sample: str = "") -> Column:
    return Column(key, header, aliases, "date", required, note="日期，如 2026-01-15 或 2026/1/15", sample=sample)


LAYOUTS: dict[str, Layout] = {
    layout.kind: layout
    for layout in (
        Layout(
            Kind.RURAL_REVITALIZATION,
            "乡村振兴部门数据",
            (
                Column(
                    "population_type",
                    "人员类别",
                    ("人口类别", "对象类别", "户类型"),
                    "choice",
                    True,
                    choices=(("脱贫人口", ("脱贫户",)), ("监测对象", ("监测户",)), ("一般农户", ("一般户",))),
                    sample="脱贫人口",
                ),  # fmt: skip
                Column("remark", "备注", ("说明",)),
            ),
            code="population_type",
        ),
        Layout(
            Kind.EDUCATION,
            "教育部门学生信息",
            (
                Column(
                    "stage",
                    "学段",
                    ("就读学段", "学习阶段", "在读学段"),
                    "choice",
                    True,
                    choices=(
                        ("学前教育", ("学前", "幼儿园")),
                        ("小学", ()),
                        ("初中", ()),
                        ("高中", ("普通高中",)),
                        ("中职", ("中职/技工", "技工", "中专")),
                        ("大专及以上", ("大专", "本科", "高校")),
                    ),
                    sample="初中",
                ),  # fmt: skip
                Column(
                    "school_status",
                    "在校状态",
                    ("就学状态", "在校情况", "学籍状态"),
                    "choice",
                    True,
                    choices=(("在校", ("在读",)), ("辍学", ("失学",)), ("休学", ()), ("毕业", ("已毕业",))),
                    sample="在校",
                ),  # fmt: skip
                Column("school", "学校名称", ("就读学校", "学校")),
                _amount("aid_amount", "资助金额", "资助金额(元)", "助学金额"),
            ),
            code="school_status",
        ),
        Layout(
            Kind.CIVIL_AFFAIRS,
            "民政社会救助名单",
            (
                Column(
                    "assistance_type",
                    "救助类别",
                    ("救助类型", "保障类别", "救助项目"),
                    "choice",
                    True,
                    choices=(
                        ("低保", ("最低生活保障", "农村低保", "低保户")),
                        ("特困", ("特困供养", "特困人员", "五保")),
                        ("临时救助", ("临时救助对象",)),
                        ("低保边缘", ("低边", "低保边缘家庭")),
                        ("孤儿", ("事实无人抚养儿童",)),
                    ),
                    sample="低保",
                ),  # fmt: skip
                _date(
                    "start_date", "救助开始日期", "开始日期", "起始日期", "起始时间", required=True, sample="2026-01-01"
                ),
                _date("end_date", "救助结束日期", "结束日期", "终止日期", "截止日期", sample="2026-12-31"),
                _amount("amount", "救助金额", "月救助金额", "保障金额", sample="650"),
            ),
            key=("assistance_type", "start_date"),
            amount="amount",
            event_date="start_date",
            code="assistance_type",
        ),
        Layout(
            Kind.HUMAN_RESOURCES,
            "人社就业信息",
            (
                Column(
                    "employment_status",
                    "就业状态",
                    ("就业情况", "务工状态"),
                    "choice",
                    True,
                    choices=(
                        ("就业", ("已就业", "在岗", "务工")),
                        ("失业", ("未就业", "失业登记")),
                        ("返乡", ("务工返乡", "返乡未就业")),
                        ("灵活就业", ()),
                    ),
                    sample="就业",
                ),  # fmt: skip
                Column("work_place", "就业地点", ("务工地点", "工作地点")),
                _date("status_date", "登记日期", "失业登记日期", "状态日期", sample="2026-01-10"),
            ),
            event_date="status_date",
            code="employment_status",
        ),
        Layout(
            Kind.HOUSING,
            "住建农房安全鉴定",
            (
                Column(
                    "grade",
                    "鉴定等级",
                    ("房屋鉴定等级", "安全等级", "危房等级", "等级"),
                    "choice",
                    True,
                    choices=(
                        ("A", ("A级", "一级")),
                        ("B", ("B级", "二级")),
                        ("C", ("C级", "三级", "局部危房")),
                        ("D", ("D级", "四级", "整体危房")),
                    ),
                    note="A、B、C、D 四级",
                    sample="B",
                ),  # fmt: skip
                _date("assessed_on", "鉴定日期", "鉴定时间", sample="2026-01-08"),
                Column("house_address", "房屋地址", ("住房地址", "地址")),
            ),
            event_date="assessed_on",
            code="grade",
        ),
        Layout(
            Kind.WATER,
            "水务饮水安全核查",
            (
                Column(
                    "water_status",
                    "饮水状况",
                    ("供水状况", "饮水安全状况", "饮水情况"),
                    "choice",
                    True,
                    choices=(
                        ("安全", ("达标", "正常")),
                        ("季节性缺水", ("缺水",)),
                        ("水质不达标", ("水质不合格",)),
                        ("未通自来水", ("未通水",)),
                    ),
                    sample="安全",
                ),  # fmt: skip
                _date("checked_on", "核查日期", "检查日期", sample="2026-01-12"),
            ),
            event_date="checked_on",
            code="water_status",
        ),
        Layout(
            Kind.HEALTH,
            "卫健大病慢病信息",
            (
                Column(
                    "illness_type",
                    "病种类别",
                    ("疾病类别", "病种类型"),
                    "choice",
                    True,
                    choices=(("大病", ("重大疾病", "大病专项救治")), ("慢性病", ("慢病", "长期慢性病")), ("其他", ())),
                    sample="慢性病",
                ),  # fmt: skip
                Column("illness", "疾病名称", ("病种名称", "诊断")),
                _date("diagnosed_on", "诊断日期", "确诊日期", sample="2025-11-03"),
            ),
            event_date="diagnosed_on",
            code="illness_type",
        ),
        Layout(
            Kind.EMERGENCY,
            "应急管理受灾信息",
            (
                _date("disaster_date", "受灾日期", "受灾时间", "灾害发生日期", required=True, sample="2026-01-20"),
                Column(
                    "disaster_type",
                    "灾害类型",
                    ("灾种", "受灾类型"),
                    "choice",
                    choices=(
                        ("洪涝", ("洪水", "暴雨", "洪涝灾害")),
                        ("干旱", ("旱灾",)),
                        ("台风", ()),
                        ("地震", ()),
                        ("地质灾害", ("滑坡", "泥石流")),
                        ("火灾", ()),
                        ("冰冻", ("雪灾", "低温冰冻")),
                        ("其他", ()),
                    ),
                    sample="洪涝",
                ),  # fmt: skip
                _amount("loss", "损失金额", "直接经济损失", "经济损失", "损失", required=True, sample="12000"),
            ),
            key=("disaster_date",),
            amount="loss",
            event_date="disaster_date",
            code="disaster_type",
        ),
        Layout(
            Kind.MEDICAL_INSURANCE,
            "医保就诊费用明细",
            (
                _date("visit_date", "就诊日期", "就医日期", "结算日期", "入院日期", required=True, sample="2026-01-15"),
                _amount(
                    "total_cost", "医疗总费用", "总费用", "医疗费用总额", "费用总额", required=True, sample="12600"
                ),
                _amount(
                    "reimbursed", "报销金额", "统筹支付金额", "基金支付金额", "医保报销金额", "报销", sample="8200"
                ),
                _amount(
                    "self_paid",
                    "个人自付金额",
                    "个人自付",
                    "自付金额",
                    "个人负担金额",
                    "个人支付金额",
                    required=True,
                    sample="4400",
                ),  # fmt: skip
                Column(
                    "inpatient", "是否住院", ("住院", "就诊类型", "门诊/住院"), "choice", choices=YES_NO, sample="是"
                ),
                _amount("medical_aid", "医疗救助金额", "医疗救助", "救助金额"),
                Column("institution", "就诊机构", ("医疗机构", "医院名称", "定点医疗机构")),
            ),
            key=("visit_date", "inpatient", "institution"),
            amount="self_paid",
            event_date="visit_date",
            code="inpatient",
            notes=("每次就诊（结算）一行；同一人同一天同一机构只能有一行。",),
        ),
        Layout(
            Kind.FINANCE,
            "金融小额信贷逾期",
            (
                Column(
                    "overdue_days",
                    "贷款逾期天数",
                    ("逾期天数", "逾期日数"),
                    "int",
                    True,
                    minimum=0,
                    maximum=36500,
                    sample="45",
                ),  # fmt: skip
                _amount("overdue_amount", "逾期金额", "逾期本金", "逾期本息", required=True, sample="20000"),
                Column("loan_type", "贷款类型", ("贷款品种", "贷款种类"), sample="脱贫人口小额信贷"),
            ),
            key=("loan_type",),
            amount="overdue_amount",
            code="loan_type",
        ),
        Layout(
            Kind.DISABLED_FEDERATION,
            "残联残疾人证信息",
            (
                Column(
                    "disability_category",
                    "残疾类别",
                    ("残疾类型", "残疾种类"),
                    "choice",
                    True,
                    choices=(
                        ("视力残疾", ("视力",)),
                        ("听力残疾", ("听力",)),
                        ("言语残疾", ("言语",)),
                        ("肢体残疾", ("肢体",)),
                        ("智力残疾", ("智力",)),
                        ("精神残疾", ("精神",)),
                        ("多重残疾", ("多重",)),
                    ),
                    sample="肢体残疾",
                ),  # fmt: skip
                Column(
                    "disability_level",
                    "残疾等级",
                    ("残疾级别", "等级"),
                    "int",
                    True,
                    minimum=1,
                    maximum=4,
                    note="1-4 级（一级最重）",
                    sample="2",
                ),  # fmt: skip
                _date("certified_on", "发证日期", "办证日期", "评定日期", sample="2026-01-05"),
            ),
            event_date="certified_on",
            code="disability_category",
        ),
        # --- the asset cross-check 信息比对 (issue 10 point 9): one row per item a person owns
        # or an employer pays; every row of a member of a household under identification is a
        # finding for the county to judge, never a rejection by itself.
        Layout(
            Kind.VEHICLES,
            "公安车管车辆登记信息",
            (
                Column("plate", "号牌号码", ("车牌号码", "车牌号", "号牌", "车牌"), required=True, sample="粤A12345"),
                Column("vehicle_type", "车辆类型", ("车辆种类", "车型"), sample="小型轿车"),
                Column("brand", "品牌型号", ("厂牌型号", "品牌", "车辆品牌"), sample="大众朗逸"),
                _date("registered_on", "初次登记日期", "登记日期", "注册登记日期", sample="2024-05-18"),
                Column("vehicle_status", "机动车状态", ("车辆状态", "状态"), sample="正常"),
            ),
            key=("plate",),
            event_date="registered_on",
            code="vehicle_type",
            frequency="在县级开展信息比对时",
            notes=("县级开展信息比对时提供：每辆车一行，号牌号码必填。",),
        ),
        Layout(
            Kind.PROPERTY,
            "不动产登记信息",
            (
                Column(
                    "certificate",
                    "不动产权证号",
                    ("不动产权证书号", "产权证号", "证书号", "不动产单元号"),
                    required=True,
                    sample="粤(2025)清河县不动产权第0001234号",
                ),  # fmt: skip
                Column("location", "坐落", ("房屋坐落", "不动产坐落", "地址", "位置"), sample="城关镇幸福路8号"),
                Column("use", "用途", ("房屋用途", "规划用途"), sample="住宅"),
                Column(
                    "floor_area",
                    "建筑面积",
                    ("建筑面积(平方米)", "面积", "房屋面积"),
                    "amount",
                    note="平方米，可带两位小数",
                    sample="96.5",
                ),  # fmt: skip
                _date("registered_on", "登记日期", "登簿日期", "登记时间", sample="2025-03-02"),
            ),
            key=("certificate",),
            event_date="registered_on",
            code="use",
            frequency="在县级开展信息比对时",
            notes=("每处不动产一行；共有的不动产每位权利人各一行。",),
        ),
        Layout(
            Kind.BUSINESS,
            "市场主体登记信息",
            (
                Column(
                    "credit_code",
                    "统一社会信用代码",
                    ("信用代码", "注册号", "营业执照号"),
                    required=True,
                    sample="92331100MA2XXXXX1X",
                ),  # fmt: skip
                Column(
                    "business_name",
                    "市场主体名称",
                    ("企业名称", "名称", "字号名称"),
                    required=True,
                    sample="清河县某某农家乐",
                ),  # fmt: skip
                Column(
                    "entity_type",
                    "主体类型",
                    ("市场主体类型", "企业类型", "类型"),
                    "choice",
                    choices=(
                        ("企业", ("有限责任公司", "公司", "个人独资企业", "合伙企业")),
                        ("个体工商户", ("个体户", "个体")),
                        ("农民专业合作社", ("合作社", "专业合作社")),
                    ),
                    sample="个体工商户",
                ),  # fmt: skip
                Column(
                    "position",
                    "人员身份",
                    ("职务", "身份", "担任职务"),
                    sample="经营者",
                    note="法定代表人、股东、经营者等",
                ),  # fmt: skip
                _amount("capital", "注册资本", "注册资金", "出资额", "资金数额", sample="50000"),
                _date("founded_on", "成立日期", "注册日期", "登记日期", sample="2023-08-01"),
                Column("business_status", "登记状态", ("经营状态", "状态"), sample="存续"),
            ),
            key=("credit_code",),
            amount="capital",
            event_date="founded_on",
            code="entity_type",
            frequency="在县级开展信息比对时",
        ),
        Layout(
            Kind.PAYROLL,
            "财政供养人员信息",
            (
                Column(
                    "employer", "工作单位", ("单位名称", "所在单位", "供养单位"), required=True, sample="清河县某某中学"
                ),
                Column("post", "职务岗位", ("职务", "岗位", "职级"), sample="教师"),
                Column(
                    "payroll_type",
                    "人员类别",
                    ("供养类别", "人员性质", "编制类别"),
                    "choice",
                    choices=(
                        ("在职", ("在编", "在岗", "在职人员")),
                        ("退休", ("离退休", "退休人员")),
                        ("编外", ("聘用", "临聘", "编外人员")),
                    ),
                    sample="在职",
                ),  # fmt: skip
                _amount("monthly_pay", "月工资", "月应发工资", "工资", "月发放金额", sample="6200"),
                _date("started_on", "参加工作日期", "入职日期", "进入单位日期", sample="2015-09-01"),
            ),
            key=("employer",),
            amount="monthly_pay",
            event_date="started_on",
            code="payroll_type",
            frequency="在县级开展信息比对时",
        ),
        Layout(
            Kind.HOUSING_FUND,
            "住房公积金缴存信息",
            (
                Column("employer", "缴存单位", ("单位名称", "工作单位"), required=True, sample="清河县某某公司"),
                _amount("monthly_deposit", "月缴存额", "月缴额", "缴存金额", "月汇缴额", required=True, sample="860"),
                Column(
                    "deposit_status",
                    "账户状态",
                    ("缴存状态", "个人账户状态", "状态"),
                    "choice",
                    choices=(("正常", ("缴存", "正常缴存")), ("封存", ()), ("销户", ("已销户",))),
                    sample="正常",
                ),  # fmt: skip
                _date("opened_on", "开户日期", "开始缴存日期", sample="2020-01-01"),
            ),
            key=("employer",),
            amount="monthly_deposit",
            event_date="opened_on",
            code="deposit_status",
            frequency="在县级开展信息比对时",
        ),
    )
}
ASSET_KINDS: tuple[str, ...] = (Kind.VEHICLES, Kind.PROPERTY, Kind.BUSINESS, Kind.PAYROLL, Kind.HOUSING_FUND)
assert set(LAYOUTS) == set(Kind.values), "every department kind has a layout"


def layout_for(kind: str) -> Layout:
    return LAYOUTS[kind]
