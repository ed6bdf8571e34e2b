"""bulk_rows.RowCleaner is Model.full_clean for rows held as dicts (the importer validates new
households and members with it): the same messages for the same values, remembered per value."""

import datetime

import pytest

from households import bulk_rows, idnumber
from households.models import Household, Member

VALID_ID = idnumber.make("440981", datetime.date(1980, 5, 6), 13)

MEMBER_CASES = [
    {},
    {"name": "张三", "relation": "head"},
    {"name": "", "relation": "spouse"},
    {"name": "张\u200b三", "relation": "head"},  # zero-width space
    {"name": "张\n三", "relation": "head"},  # a line break in a one-line field
    {"name": "x" * 51, "relation": "head"},
    {"name": "李四", "relation": "cousin"},  # not a choice
    {"name": "李四", "relation": "head", "phone": "12345"},
    {"name": "李四", "relation": "head", "phone": "138 0013 8000"},  # normalised by clean()
    {"name": "李四", "relation": "head", "disability_level": 3},  # level without category
    {"name": "李四", "relation": "head", "disability_level": 7, "disability_category": "visual"},
    {"name": "李四", "relation": "head", "work_months": 13},
    {"name": "李四", "relation": "head", "id_number": VALID_ID[:17] + ("0" if VALID_ID[17] != "0" else "1")},
    {"name": "李四", "relation": "head", "id_number": "123"},
    {"name": "李四", "relation": "head", "status": "gone", "health": "ok", "schooling": "primary"},
]


def full_clean_errors(instance):
    try:
        instance.full_clean(exclude=["household"], validate_unique=False, validate_constraints=False)
    except Exception as exc:  # ValidationError
        return exc.message_dict
    return {}


@pytest.mark.parametrize("case", MEMBER_CASES)
def test_member_rows_get_the_messages_and_values_of_full_clean(case):
    cleaner = bulk_rows.RowCleaner(Member, exclude=["household"])
    for _ in range(2):  # the second pass answers from what was remembered
        values = cleaner.new_values()
        values.update({"id_number": VALID_ID, **case})
        errors = cleaner.clean(values)
        member = Member(**{"id_number": VALID_ID, **case})
        expected = full_clean_errors(member)
        assert {k: list(dict.fromkeys(v)) for k, v in errors.items()} == expected
        for field in ("id_number", "phone", "birth_date", "sex", "name", "relation"):
            assert values[field] == getattr(member, field)


def test_household_rows_get_the_messages_of_full_clean():
    cleaner = bulk_rows.RowCleaner(Household, exclude=["village"])
    cases = [
        {"number": "H1"},
        {"number": "H1" * 20},
        {"number": "H2", "phone": "abc", "household_type": "rich"},
        {"number": "H3", "address": "一组\t8号", "phone": "0371 1234 5678"},
    ]
    for case in cases * 2:
        values = cleaner.new_values()
        values.update({"village_id": 1, **case})
        errors = cleaner.clean(values)
        household = Household(village_id=1, **case)
        try:
            household.full_clean(exclude=["village"], validate_unique=False, validate_constraints=False)
            expected = {}
        except Exception as exc:
            expected = exc.message_dict
        assert errors == expected
        assert values["phone"] == household.phone


def test_inserted_rows_read_back_as_written_with_their_new_ids(world):
    """COPY on PostgreSQL (text made as COPY reads it, in chunks), executemany elsewhere: tabs,
    backslashes and line breaks survive, and each new row's id comes back."""
    cleaner = bulk_rows.RowCleaner(Household, exclude=["village"])
    fields = [f for f in Household._meta.concrete_fields if not f.primary_key]
    rows = []
    for n, address in enumerate(["一组\t8号", "C:\\路\\3", "两行\n地址\r", "", "普通"] * 40):
        values = cleaner.new_values()
        values.update(
            number=f"IR{n:03d}", village_id=world.village_a1.pk, address=address, updated_at=values["created_at"]
        )
        rows.append(values)

    ids = bulk_rows.insert_rows(Household, fields, rows, returning="number")

    stored = {h.number: h for h in Household.objects.filter(number__startswith="IR")}
    assert len(stored) == len(rows) == len(ids)
    for values in rows:
        household = stored[values["number"]]
        assert ids[values["number"]] == household.pk
        assert (household.address, household.card_token, household.relocated) == (
            values["address"],
            values["card_token"],
            False,
        )


def test_copy_text_is_read_in_whole_lines():
    reader = bulk_rows._CopyReader(iter(["a\tb\n", "cc\n", "ddd\n"]))
    assert [reader.read(3), reader.read(100), reader.read(3)] == ["a\tb\n", "cc\nddd\n", ""]


def test_present_finds_which_values_are_stored(world):
    stored = world.household_a1.members.first().id_number
    assert bulk_rows.present(Member, "id_number", [VALID_ID, stored, stored]) == {stored}
    assert bulk_rows.present(Member, "id_number", []) == set()


def test_rows_where_reads_what_values_list_reads(world):
    """The importer's stored tuples: the same values as the ORM gives (booleans, integers,
    NULLs), and on PostgreSQL (one = ANY query) the same types; SQLite's booleans are 1/0."""
    from django.db import connection

    from households.importer import STORED_HOUSEHOLD, STORED_MEMBER

    member = world.household_a1.members.first()
    member.disability_level, member.disability_category, member.work_months = 2, "visual", 7
    member.save()
    ids = list(Household.objects.values_list("id", flat=True)) + [10**9]
    got = list(bulk_rows.rows_where(Member, STORED_MEMBER, "household_id", ids + ids))
    expected = list(Member.objects.filter(household_id__in=ids).values_list(*STORED_MEMBER))
    assert sorted(got) == sorted(expected) and len(got) == Member.objects.count()
    if connection.vendor == "postgresql":
        assert [tuple(map(type, r)) for r in sorted(got)] == [tuple(map(type, r)) for r in sorted(expected)]
    numbers = list(Household.objects.values_list("number", flat=True))
    assert sorted(bulk_rows.rows_where(Household, STORED_HOUSEHOLD, "number", numbers)) == sorted(
        Household.objects.values_list(*STORED_HOUSEHOLD)
    )
    assert list(bulk_rows.rows_where(Member, STORED_MEMBER, "household_id", [])) == []
