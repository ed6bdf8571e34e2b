"""Resident ID numbers (公民身份号码), GB 11643-1999.

18 characters: a 6-digit area code, an 8-digit birth date, a 3-digit sequence (odd for men,
even for women) and an ISO 7064 MOD 11-2 check character (0-9 or X).
"""

import datetime
import functools
import operator
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
SHAPE = re.compile(r"^\d{17}[\dX]$")
# Province-level codes in use (GB/T 2260); the first two digits must be one of them.
PROVINCES = {
    "11",
    "12",
    "13",
    "14",
    "15",
    "21",
    "22",
    "23",
    "31",
    "32",
    "33",
    "34",
    "35",
    "36",
    "37",
    "41",
    "42",
    "43",
    "44",
    "45",
    "46",
    "50",
    "51",
    "52",
    "53",
    "54",
    "61",
    "62",
    "63",
    "64",
    "65",
    "71",
    "81",
    "82",
    "83",
    "91",
}
LENGTH = 18
EARLIEST_BIRTH = datetime.date(1890, 1, 1)


@dataclass(frozen=True)
class IdNumber:
    number: str
    birth_date: datetime.date
    sex: str  # "M" or "F"

    def age_on(self, day):
        return age_on(self.birth_date, day)


def age_on(birth_date, day):
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def check_char(first17):
    if len(first17) != len(WEIGHTS):
        raise ValueError(f"check_char needs {len(WEIGHTS)} digits, got {len(first17)}")
    return CHECK_CHARS[sum(map(operator.mul, map(int, first17), WEIGHTS)) % 11]


def normalize(value):
    """Full-width digits and spaces folded, lower-case x accepted as X."""
    if value is None:
        return ""
    return unicodedata.normalize("NFKC", str(value)).strip().replace(" ", "").upper()


def parse(value, today=None):
    """Return the validated ID number with its birth date and sex, or raise ValidationError."""
    return _parse(normalize(value), today or datetime.date.today())


# A model's field validator and its clean() both parse the number they were given, one right
# after the other: the second asks the cache. The result is immutable and depends on its
# arguments only (errors are not cached: they are raised again).
@functools.lru_cache(maxsize=1024)
def _parse(number, today):
    if not number:
        raise ValidationError("身份证号不能为空。", code="required")
    if len(number) != LENGTH:
        raise ValidationError("身份证号应为 18 位，当前为 %(n)s 位。", code="length", params={"n": len(number)})
    if not SHAPE.match(number):
        raise ValidationError("身份证号只能由数字组成，最后一位可以是 X。", code="characters")
    if number[:2] not in PROVINCES:
        raise ValidationError("身份证号前两位不是有效的省级行政区划代码。", code="area")
    try:
        birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            "身份证号中的出生日期 %(d)s 不存在。", code="birth_date", params={"d": number[6:14]}
        ) from None
    if birth > today or birth < EARLIEST_BIRTH:
        raise ValidationError("身份证号中的出生日期 %(d)s 不合理。", code="birth_date", params={"d": birth.isoformat()})
    expected = check_char(number[:17])
    if number[17] != expected:
        raise ValidationError("身份证号校验位错误，请核对号码。", code="check_digit")
    sex = "M" if int(number[16]) % 2 else "F"
    return IdNumber(number=number, birth_date=birth, sex=sex)


def validate(value):
    """Field validator form of parse()."""
    parse(value)


def mask(number):
    """4409**********123X: enough to recognise a record, not enough to misuse it."""
    if not number:
        return ""
    if len(number) < 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def make(area_code, birth_date, sequence):
    """Build a valid number (demo data and tests). sequence: 0-999, odd for men."""
    first17 = f"{area_code}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)
