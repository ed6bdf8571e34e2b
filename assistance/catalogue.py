"""The default measure catalogue (DOMAIN.md §5; seeds 000, 001 §四, 004 §五).

Installed by a data migration; the county edits, disables or adds types in the admin
afterwards, so this list is the starting point, not the catalogue itself.
"""

DEV, SOCIAL, OTHER = "developmental", "social_security", "other"

# code, label, kind, risk types it answers (its main purpose first: suggestions rank by it), usual
# department, continues after elimination (how long)
CATALOGUE = [
    ("industry", "产业帮扶", DEV, ["industry", "employment", "labour"], "rural", ""),
    ("employment", "就业帮扶", DEV, ["employment", "industry", "accident", "disaster"], "human_resources", ""),
    (
        "public_job",
        "公益岗位",
        DEV,
        ["employment", "disability", "illness", "labour"],
        "human_resources",
        "至岗位协议期满",
    ),
    ("training", "技能培训", DEV, ["employment", "industry"], "human_resources", ""),
    ("micro_credit", "小额信贷", DEV, ["industry", "loan"], "finance", "至贷款合同期满"),
    ("work_relief", "以工代赈", DEV, ["employment", "disaster"], "rural", ""),
    ("dibao", "低保", SOCIAL, ["labour", "disability", "illness", "accident", "other"], "civil_affairs", ""),
    ("tekun", "特困供养", SOCIAL, ["labour", "disability", "illness"], "civil_affairs", ""),
    ("temporary_relief", "临时救助", SOCIAL, ["disaster", "accident", "illness", "other"], "civil_affairs", ""),
    ("medical_aid", "医疗救助/医保资助", SOCIAL, ["illness", "accident"], "medical_insurance", ""),
    ("disability_subsidy", "残疾人两项补贴", SOCIAL, ["disability"], "disabled_federation", ""),
    ("insurance", "防贫保险", SOCIAL, ["illness", "disaster", "accident", "industry"], "rural", ""),
    ("education_aid", "教育资助", OTHER, ["education"], "education", "至学段结束"),
    ("housing", "危房改造", OTHER, ["housing", "disaster"], "housing", ""),
    ("water", "饮水保障", OTHER, ["water"], "water", ""),
    ("social_aid", "社会帮扶", OTHER, ["illness", "education", "disaster", "other"], "rural", ""),
    ("motivation", "扶志扶智", OTHER, ["other", "employment"], "rural", ""),
]


def install_default_catalogue(measure_type_model=None):
    """Add the default types missing by code; types the county changed are left as they are."""
    if measure_type_model is None:
        from .models import MeasureType as measure_type_model
    for order, (code, label, kind, risks, department, continuation) in enumerate(CATALOGUE, start=1):
        measure_type_model.objects.get_or_create(
            code=code,
            defaults={
                "label": label,
                "kind": kind,
                "risk_types": risks,
                "department_kind": department,
                "continues_after_elimination": bool(continuation),
                "continuation_note": continuation,
                "sort_order": order * 10,
            },
        )
