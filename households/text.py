"""One rule for the text a person types (names, addresses, numbers, notes, reasons).

Every entry path applies it: the request guard (fanpin.middleware) refuses characters that
no name, address or note contains on every page and API request; the models' text check
(`TextCheckedModel`, `check_instance_text`) adds the single-line rule and runs for page
forms, API writes and the importer alike, because they all save through the services.

Refused, with the character named in the message:
- control characters (C0 except tab/newline/carriage return in multi-line text, DEL, C1),
- direction overrides and isolates (U+202A-U+202E, U+2066-U+2069, U+200E/U+200F, U+061C),
  which make "123" display as "321" and hide what a record says,
- zero-width characters, word joiner, soft hyphen and the byte-order mark, which make two
  equal-looking household numbers or names differ,
- in single-line fields (every CharField), newlines and tabs.
"""

import re
import unicodedata
from collections.abc import Collection
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

INVISIBLE = {
    "\u200b": "零宽空格",
    "\u200c": "零宽非连接符",
    "\u200d": "零宽连接符",
    "\u2060": "零宽不换行符",
    "\ufeff": "字节顺序标记（BOM）",
    "\u00ad": "软连字符",
}
DIRECTION = {ch: "文字方向控制符" for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"}
LINE_BREAKS = {"\n": "换行符", "\r": "回车符", "\t": "制表符", "\u2028": "换行符", "\u2029": "换行符"}


def _describe(ch: str) -> str | None:
    """The Chinese name of a character no typed text may contain, or None if it may."""
    if ch in INVISIBLE:
        return INVISIBLE[ch]
    if ch in DIRECTION:
        return DIRECTION[ch]
    if ch in LINE_BREAKS:
        return None  # allowed in multi-line text; single-line fields check them separately
    if unicodedata.category(ch) == "Cc":
        return "控制字符"
    return None


_SUSPECT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff\u00ad\u061c]"
)


def forbidden_character(value: str) -> str | None:
    """A message naming the first character that no typed text may contain, or None."""
    match = _SUSPECT.search(value)
    if match is None:
        return None
    ch = match.group()
    name = _describe(ch)
    return f"含有{name}（U+{ord(ch):04X}），请删除后重新输入。" if name else None


def line_break(value: str) -> str | None:
    for ch in value:
        if ch in LINE_BREAKS:
            return f"含有{LINE_BREAKS[ch]}，该项只能填写一行文字。"
    return None


def validate_text(value: str, *, multiline: bool = False) -> None:
    """Raise ValidationError (Chinese) if `value` breaks the rule above."""
    message = forbidden_character(value) or (None if multiline else line_break(value))
    if message:
        raise ValidationError(message, code="forbidden_character")


def check_instance_text(instance: models.Model, exclude: frozenset[str] | set[str] = frozenset()) -> None:
    """Apply the rule to every text field of a model instance: CharFields are single-line,
    TextFields may hold line breaks. Raises one ValidationError keyed by field name."""
    errors: dict[str, list[str]] = {}
    for field in instance._meta.concrete_fields:
        if field.name in exclude or not isinstance(field, (models.CharField, models.TextField)):
            continue
        value = getattr(instance, field.attname)
        if not isinstance(value, str) or not value:
            continue
        try:
            validate_text(value, multiline=isinstance(field, models.TextField))
        except ValidationError as exc:
            errors[field.name] = [f"{field.verbose_name}{exc.messages[0]}"]
    if errors:
        raise ValidationError(errors)


class TextCheckedModel(models.Model):
    """Runs check_instance_text inside full_clean(), so forms and services get the rule
    with the field named, without each model repeating it."""

    class Meta:
        abstract = True

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        errors: dict[str, Any] = {}
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        try:
            check_instance_text(self, exclude=set(exclude or ()) | set(errors))
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)


# Phones: a mobile (11 digits from 13x-19x, optionally +86) or a landline (area code 0xx or
# 0xxx, 7-8 digits, optional extension; a local 7-8 digit number without the area code is
# accepted, as village records often write them).
_PHONE_SEPARATORS = re.compile(r"[\s\-－—()（）]")
MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
LANDLINE = re.compile(r"^(?:0\d{2,3})?\d{7,8}(?:#\d{1,6}|转\d{1,6})?$")


def normalize_phone(value: str) -> str:
    """Full-width digits folded; a mobile is stored as its 11 digits, a landline as
    "area-number" (or as typed when it has no area code)."""
    if not value:
        return ""
    value = unicodedata.normalize("NFKC", value).strip()
    compact = _PHONE_SEPARATORS.sub("", value)
    if MOBILE.match(compact):
        return compact[-11:]
    if LANDLINE.match(compact):
        area = re.match(r"^(010|02\d|0\d{3})(\d{7,8})(.*)$", compact)
        return f"{area.group(1)}-{area.group(2)}{area.group(3)}" if area else compact
    return value


def validate_phone(value: str) -> None:
    if value and not (
        MOBILE.match(_PHONE_SEPARATORS.sub("", value)) or LANDLINE.match(_PHONE_SEPARATORS.sub("", value))
    ):
        raise ValidationError(
            "电话号码格式不正确：请填写 11 位手机号，或座机号（区号-号码，如 0371-12345678）。", code="phone"
        )
