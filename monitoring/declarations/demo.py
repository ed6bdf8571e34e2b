"""Demo self-declarations for the demo village (fanpin/demo.py puts the layers together): one
of each state the village cadre meets, built through the same services as the pages."""

import datetime

from django.utils import timezone

from households import idnumber
from households.models import Area, Household, Member

from ..models import OPEN_STATES, Declaration, DeclarationEvent, DeclarationPhoto, purging_demo_records
from . import services

DEMO_PHONE = "13700001111"


def _unregistered_id(birth, sex, n):
    """A valid ID number no member of the registry holds (a person not registered yet)."""
    for sequence in range(100 + n * 7, 999):
        if (sequence % 2 == 1) != (sex == "M"):
            continue
        number = idnumber.make("371525", birth, sequence)
        if not Member.objects.filter(id_number=number).exists():
            return number
    raise RuntimeError("no free demo ID number")


def seed_declarations(*, county, users):
    """In the first village: two open online declarations (one from a registered member, sent
    twice: grouped), a 12317 hotline entry, one closed with its reason and one that started a
    case. Returns how many declarations were made."""
    town = county.children.order_by("code").first()
    village = town.children.filter(level=Area.Level.VILLAGE).order_by("code").first()
    cadre = users["village"]
    today = timezone.localdate()
    free = list(
        Household.objects.filter(village=village)
        .exclude(cases__state__in=OPEN_STATES)
        .order_by("number")
        .prefetch_related("members")[:3]
    )
    heads = [next(m for m in h.members.all() if m.relation == Member.Relation.HEAD) for h in free]

    def online(n, **facts):
        return services.declaration_submit(client=f"demo-{n}", village=village, rate_limited=False, **facts)

    made = []
    # A tiny demo (a household or two per village, all under cases) has fewer registered
    # declarers: those stories take someone not registered instead.
    while len(heads) < 3:
        n = len(heads)
        heads.append(
            Member(
                name=["王桂兰", "刘长顺", "陈淑芬"][n], id_number=_unregistered_id(datetime.date(1960, 3, 9), "F", n)
            )
        )
    # A registered member, twice: the cadre sees one row (suggested household: theirs).
    first = online(
        1,
        name=heads[0].name,
        id_number=heads[0].id_number,
        phone=DEMO_PHONE,
        situation="老伴上个月中风住院，自付医药费三万多，家里地没人种了。",
        risk_types=["illness", "labour"],
    )
    made.append(first)
    made.append(
        online(
            2,
            name=heads[0].name,
            id_number=heads[0].id_number,
            phone=DEMO_PHONE,
            situation="补充：出院后还要长期吃药，每月八百元左右。",
            risk_types=["illness"],
        )
    )
    # Someone not in the registry yet: the cadre registers the household from it.
    made.append(
        online(
            3,
            name="赵春梅",
            id_number=_unregistered_id(datetime.date(1979, 8, 15), "F", 3),
            phone="13700002222",
            situation="刚从外地搬回来照顾老人，丈夫打工受伤，没有收入。",
            risk_types=["accident", "employment"],
        )
    )
    # Received by the 12317 hotline two days ago, entered by the cadre.
    made.append(
        services.declaration_record(
            user=cadre,
            village=village,
            source=Declaration.Source.HOTLINE,
            declared_on=today - datetime.timedelta(days=2),
            name=heads[1].name,
            id_number=heads[1].id_number,
            phone="13700003333",
            situation="夏天暴雨冲垮了猪圈，十几头猪损失了，贷款还不上。",
            risk_types=["disaster", "industry", "loan"],
        )
    )
    # Checked and closed with a reason the declarer can look up.
    closed = services.declaration_record(
        user=cadre,
        village=village,
        source=Declaration.Source.WINDOW,
        declared_on=today - datetime.timedelta(days=6),
        name="孙建国",
        id_number=_unregistered_id(datetime.date(1985, 2, 3), "M", 5),
        phone="13700004444",
        situation="想申请危房改造。",
        risk_types=["housing"],
    )
    services.declaration_close(
        user=cadre,
        declaration_id=closed.pk,
        reason="经入户核实，住房为 2019 年新建砖混结构，鉴定安全；家庭收入高于监测线。如有新困难可再次申报。",
    )
    made.append(closed)
    # Linked to its household and started a case (channel 农户自主申报, the facts carried).
    started = services.declaration_record(
        user=cadre,
        village=village,
        source=Declaration.Source.WECHAT_GROUP,
        declared_on=today - datetime.timedelta(days=4),
        name=heads[2].name,
        id_number=heads[2].id_number,
        phone="13700005555",
        situation="儿子上大学学费和生活费一年两万，今年棉花减产。",
        risk_types=["education", "industry"],
    )
    if len(free) > 2:
        services.declaration_link(user=cadre, declaration_id=started.pk, household=free[2])
        services.declaration_start_case(user=cadre, declaration_id=started.pk)
    made.append(started)
    return len(made)


def wipe_declarations(county):
    """Remove the demo county's declarations (before its cases and households)."""
    under = Declaration.objects.filter(village__path__startswith=county.path)
    with purging_demo_records():
        DeclarationEvent.objects.filter(declaration__in=under).delete()
        DeclarationPhoto.objects.filter(declaration__in=under).delete()
        under.filter(duplicate_of__isnull=False).delete()
        under.delete()
