"""Display formatting for scores: 0 is a score, not "missing"; trailing zeros are dropped."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def score(value: Decimal | None) -> str:
    """9.50 → "9.5", 10.00 → "10", 0 → "0", None → "—"."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(value).normalize():f}"


@register.filter
def score_input(value: Decimal | None) -> str:
    """The same for an <input type=number> value ("" when there is no score)."""
    return "" if value is None or value == "" else f"{Decimal(value).normalize():f}"
