import datetime

import pytest
from django.core.exceptions import ValidationError

from households import idnumber

# A published sample number with check character X (area 110105, born 1949-12-31, male).
SAMPLE = "11010519491231002X"


def error_of(value, **kwargs):
    with pytest.raises(ValidationError) as exc:
        idnumber.parse(value, **kwargs)
    return exc.value


def test_valid_number_derives_birth_date_and_sex():
    parsed = idnumber.parse("440981198005170013")
    assert parsed.number == "440981198005170013"
    assert parsed.birth_date == datetime.date(1980, 5, 17)
    assert parsed.sex == "M"  # 17th digit 1 is odd


def test_even_sequence_digit_means_female():
    number = idnumber.make("440981", datetime.date(2001, 8, 30), 124)
    assert idnumber.parse(number).sex == "F"


def test_lowercase_x_and_full_width_characters_are_normalised():
    assert idnumber.parse(SAMPLE.lower()).number == SAMPLE
    full_width = SAMPLE.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    assert idnumber.parse(f" {full_width} ").number == SAMPLE


def test_wrong_check_digit_is_rejected():
    assert error_of("11010519491231002Y"[:17] + "1").code == "check_digit"
    assert error_of("440981198005170014").messages == ["身份证号校验位错误，请核对号码。"]


def test_impossible_birth_date_is_rejected():
    first17 = "44098119900230001"
    err = error_of(first17 + idnumber.check_char(first17))
    assert err.code == "birth_date"
    assert err.messages == ["身份证号中的出生日期 19900230 不存在。"]


def test_future_birth_date_is_rejected():
    number = idnumber.make("440981", datetime.date(2030, 1, 1), 11)
    err = error_of(number, today=datetime.date(2026, 1, 1))
    assert err.code == "birth_date" and "不合理" in err.messages[0]


def test_birth_before_1890_is_rejected():
    assert error_of(idnumber.make("440981", datetime.date(1880, 1, 1), 11)).code == "birth_date"


@pytest.mark.parametrize("value,n", [("44098119800517001", 17), ("4409811980051700133", 19), ("440981800517001", 15)])
def test_wrong_length_is_rejected_with_the_length(value, n):
    err = error_of(value)
    assert err.code == "length"
    assert err.messages == [f"身份证号应为 18 位，当前为 {n} 位。"]


@pytest.mark.parametrize("value", ["44098119800517A013", "X40981198005170013", "4409811980-5170013"])
def test_letters_or_signs_are_rejected(value):
    assert error_of(value).code == "characters"


def test_empty_and_unknown_province_are_rejected():
    assert error_of("").code == "required"
    first17 = "99098119800517001"
    assert error_of(first17 + idnumber.check_char(first17)).code == "area"


def test_scientific_notation_from_excel_is_rejected():
    assert error_of("4.40981E+17").code in ("length", "characters")


def test_mask_keeps_only_the_ends():
    assert idnumber.mask(SAMPLE) == "1101**********002X"
    assert idnumber.mask("") == ""
    assert idnumber.mask("12345") == "*****"


def test_make_builds_numbers_that_parse_back():
    number = idnumber.make("520102", datetime.date(1955, 10, 1), 7)
    parsed = idnumber.parse(number)
    assert parsed.birth_date == datetime.date(1955, 10, 1) and parsed.sex == "M"


def test_age_counts_the_birthday():
    birth = datetime.date(2010, 6, 15)
    assert idnumber.age_on(birth, datetime.date(2026, 6, 14)) == 15
    assert idnumber.age_on(birth, datetime.date(2026, 6, 15)) == 16


def test_a_number_checked_twice_gives_the_same_answer_both_times():
    """parse() remembers valid numbers (a field validator and clean() both ask), never errors."""
    valid = idnumber.make("440981", datetime.date(1980, 5, 6), 13)
    wrong = valid[:17] + ("0" if valid[17] != "0" else "1")
    assert idnumber.parse(valid) == idnumber.parse(valid.lower())
    for _ in range(2):
        with pytest.raises(ValidationError, match="校验位"):
            idnumber.parse(wrong)
    with pytest.raises(ValueError):
        idnumber.check_char("123")
