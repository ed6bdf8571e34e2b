"""Amounts as a reader expects them on every page: thousands separated, two decimals, 元."""

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def yuan(value, empty="—"):
    """12345.5 → "12,345.50 元"; None or "" → the empty mark (a missing amount is not 0)."""
    if value is None or value == "":
        return empty
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return value
    return f"{amount:,.2f} 元"
