"""Test data builders, one place for the whole suite."""

import datetime
import itertools

import factory
from django.contrib.auth import get_user_model

from households import idnumber
from households.models import Area, Department, Household, IncomeRecord, Member, RoleAssignment

_sequence = itertools.count(1)
PASSWORD = "pw-123456"


def valid_id(birth=datetime.date(1980, 5, 17), sex="M", area_code="440981"):
    """A fresh valid ID number; sequence parity follows sex (odd for men)."""
    # 499 sequence numbers per sex and birth date, then the next area code: a long test run
    # makes more than that, and a wrapped sequence would repeat an ID number.
    block, index = divmod(next(_sequence), 499)
    seq = (index + 1) * 2 + (1 if sex == "M" else 0)
    area_code = f"{area_code[:2]}{(int(area_code[2:]) + block) % 10000:04d}"
    return idnumber.make(area_code, birth, seq)


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area

    name = factory.Sequence(lambda n: f"区域{n}")
    code = factory.Sequence(lambda n: f"A{n:06d}")
    level = Area.Level.COUNTY
    parent = None


def make_county(name="示例县"):
    return AreaFactory(name=name, level=Area.Level.COUNTY)


def make_town(county, name=None):
    return AreaFactory(name=name or f"{county.name}镇{Area.objects.count()}", level=Area.Level.TOWN, parent=county)


def make_village(town, name=None):
    return AreaFactory(name=name or f"{town.name}村{Area.objects.count()}", level=Area.Level.VILLAGE, parent=town)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy hook
        if create:
            obj.save()


def user_with_role(username, role, area=None, department=None):
    user = UserFactory(username=username)
    RoleAssignment.objects.create(user=user, role=role, area=area, department=department)
    return user


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    number = factory.Sequence(lambda n: f"HH{n:08d}")
    address = "一组 8 号"
    phone = "13800138000"


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    household = factory.SubFactory(HouseholdFactory)
    name = factory.Sequence(lambda n: f"成员{n}")
    relation = Member.Relation.HEAD
    id_number = factory.LazyFunction(valid_id)
    birth_date = factory.LazyAttribute(lambda o: idnumber.parse(o.id_number).birth_date)
    sex = factory.LazyAttribute(lambda o: idnumber.parse(o.id_number).sex)


def make_household(village, members=1, **kwargs):
    """A household with a head and (members - 1) more members, all living there."""
    household = HouseholdFactory(village=village, **kwargs)
    MemberFactory(household=household, relation=Member.Relation.HEAD)
    for _ in range(members - 1):
        MemberFactory(
            household=household, relation=Member.Relation.CHILD, id_number=valid_id(datetime.date(2005, 3, 9), "F")
        )
    return household


def make_income(household, year=2025, **parts):
    from decimal import Decimal

    from households.models import per_capita
    from households.services import INCOME_PARTS, active_size

    record = IncomeRecord(household=household, year=year, **{k: Decimal(str(v)) for k, v in parts.items()})
    for name in INCOME_PARTS:
        if getattr(record, name) is None:
            setattr(record, name, Decimal("0"))
    record.total_net_income = record.computed_total()
    record.household_size = active_size(household)
    record.per_capita_net_income = per_capita(record.total_net_income, record.household_size)
    record.save()
    return record


def make_department(county, kind=Department.Kind.MEDICAL_INSURANCE):
    return Department.objects.create(county=county, kind=kind, name=f"{county.name}{Department.Kind(kind).label}局")


def image_bytes(fmt="JPEG", size=(64, 48), color=(200, 120, 40)):
    """A real, decodable image (uploads are checked by content, households/uploads.py)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


def pdf_bytes(pages=1):
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def jpeg_upload(name="photo.jpg", **kwargs):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, image_bytes("JPEG", **kwargs), content_type="image/jpeg")


def pdf_upload(name="scan.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, pdf_bytes(), content_type="application/pdf")
