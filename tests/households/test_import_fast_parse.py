"""The importer's fast row parse (a row's label cells looked up as one tuple, issue 15 point 3)
gives exactly what the cell-by-cell parse gives: the same rows, values, model values, errors
in the same order, notices and skipped rows, on rows full of the quirks and mistakes the
other import tests cover one by one (no database needed: parsing reads none)."""

import datetime
import random

from households import idnumber
from households.importer import (
    COLUMNS,
    STORED_MEMBER,
    STORED_MEMBER_INDEX,
    RegistryImport,
    Row,
)
from households.spreadsheets import Table


class SlowImport(RegistryImport):
    """The import with every row read cell by cell."""

    _parse_row = RegistryImport._parse_row_slow


GOOD_IDS = [
    idnumber.make("440981", datetime.date(1960, 1, 1) + datetime.timedelta(days=37 * n), 11 + n) for n in range(60)
]

CELLS = {
    "number": [
        "H001",
        "H001",
        "H002",
        "H003",
        "H003",
        "H004",
        "",
        "",
        None,
        "合计",
        "备注：",
        1.2345678901234567e16,
        "=A1",
        7,
    ],
    "village": ["东山村", "东山村", "西山村", "", None, "=HYPERLINK(1)", " 东山村 ", "东山村\u200b", 1],
    "address": ["一组1号", "", None, "一组 1号", "=cmd|x", "+86 1", "二组"],
    "phone": ["13800138000", "138-0013-8000", 13800138000, "", None, "-", "@x"],
    "household_type": ["一般农户", "脱贫户", "", None, "未知户", "脱贫户 "],
    "relocated": ["是", "否", "", True, False, 1, 0, 1.0, "1", "Y", "也许"],
    "name": ["张三", "李  四", "王五", "", None, "=1+1", 123, "Ｌｉ"],
    "id_number": [
        *GOOD_IDS[:8],
        "",
        None,
        4.40981e17,
        "4.40981E+17",
        GOOD_IDS[0][:17] + "0",
        "440981600101001",
        "'" + GOOD_IDS[9],
    ],
    "relation": ["户主", "配偶", "子女", "本人", "", None, "邻居", True, 1],
    "status": ["在户", "", None, "死亡", "外出"],
    "health": ["健康", "长期慢性病", "", "很好", True],
    "disability_category": ["", None, "肢体", "视力", "不存在"],
    "disability_level": ["", None, 1, 2.0, "三", "3级", "五十", True, 0, "x"],
    "labour_capacity": ["普通劳动力", "", "弱劳动力或半劳动力", "超人"],
    "work_months": [6, "6", "", None, 12.0, "十二个月", "abc", False],
    "medical_insurance": ["是", "否", "", True, 0, "√", "不知道"],
    "pension_insurance": ["是", "否", "", None, 1],
    "dibao": ["否", "是", "", "=1"],
    "tekun": ["否", "", "N"],
}


def table(rows):
    header = ["某县农户家庭成员信息表"], [c.header for c in COLUMNS]
    numbered = enumerate([*header, *rows], start=1)
    return Table("Excel", "花名册", iter(list(numbered)))


def random_rows(seed, count):
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.03:
            rows.append([])  # blank
            continue
        if roll < 0.05:
            rows.append([None] * 5 + ["填表人：李会计"])  # text only outside the known columns
            continue
        # Mostly good rows, so that the fast path is taken and label tuples repeat.
        good = rng.random() < 0.6
        row = []
        for column in COLUMNS:
            pool = CELLS.get(column.key, ["是", "否", ""])
            row.append(pool[rng.randrange(min(2, len(pool)))] if good else rng.choice(pool))
        if rng.random() < 0.05:
            row = row[: rng.randrange(len(row))]  # a short row
        rows.append(row)
    return rows


def outcome(job):
    rows = [r for g in job.groups.values() for r in g.rows]
    return (
        [(r.row, r.number, r.id_text, r.id_number, r.values, r.parsed, [str(e) for e in r.errors]) for r in rows],
        [(g.number, g.household_values, [str(e) for e in g.errors]) for g in job.groups.values()],
        [str(i) for i in job.report.notices],
        [str(i) for i in job.report.errors],
        job.report.rows_read,
        job.report.rows_skipped,
    )


def test_fast_parse_equals_the_cell_by_cell_parse():
    for seed in range(8):
        rows = random_rows(seed, 400)
        fast = RegistryImport(user=None).parse(table(rows))
        slow = SlowImport(user=None).parse(table(rows))
        assert outcome(fast) == outcome(slow), seed
        # Both paths were taken.
        parsed = [r for g in fast.groups.values() for r in g.rows]
        assert any(r.stored_view is not None for r in parsed)
        assert any(r.stored_view is None for r in parsed)


def field_by_field(row: Row, member):
    return all(member[STORED_MEMBER_INDEX[k]] == v for k, v in row.parsed.items() if k in STORED_MEMBER_INDEX)


def test_stored_view_compares_as_field_by_field():
    """_unchanged's one-call comparison of a stored member with a fast-parsed row."""
    rng = random.Random(3)
    job = RegistryImport(user=None).parse(table(random_rows(11, 400)))
    checked = 0
    for row in (r for g in job.groups.values() for r in g.rows):
        if row.stored_view is None:
            continue
        getter, expected = row.stored_view
        member = [rng.choice(["", "x", True, 0, None]) for _ in STORED_MEMBER]
        for key, value in row.parsed.items():
            if key in STORED_MEMBER_INDEX:
                member[STORED_MEMBER_INDEX[key]] = value
        for attempt in range(3):
            stored = tuple(member)
            assert (getter(stored) == expected) == field_by_field(row, stored)
            assert field_by_field(row, stored) or attempt  # the row's own values first
            index = rng.randrange(len(member))
            member[index] = rng.choice(["", "changed", False, 1, member[index]])
            checked += 1
    assert checked > 150
