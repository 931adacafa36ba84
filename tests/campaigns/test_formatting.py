"""Score display: 0 is a score, trailing zeros go, missing is a dash."""

from decimal import Decimal

import pytest

from campaigns.templatetags.campaign_format import score, score_input


@pytest.mark.parametrize(
    ("value", "shown"),
    [(Decimal("0.00"), "0"), (Decimal("9.50"), "9.5"), (Decimal("10.00"), "10"), (None, "—")],
)
def test_score_is_shown_without_trailing_zeros(value, shown) -> None:  # type: ignore[no-untyped-def]
    assert score(value) == shown


def test_missing_score_leaves_an_input_empty() -> None:
    assert score_input(None) == ""
    assert score_input(Decimal("100.00")) == "100"
