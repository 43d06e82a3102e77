"""Field types for the project's typed files that explain themselves: each refuses a wrong value
with a plain rule, read by :func:`cxroi.manifest.parse_manifest` as "<field> must be <rule>
(found <value>)". Booleans never pass for numbers, text never for names.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _broken(rule: str, value: object) -> PydanticCustomError:
    return PydanticCustomError("cxroi_rule", "must be {rule} (found {found})", {"rule": rule, "found": shown(value)})


def _number_rule(low: float, high: float, above_low: bool) -> str:
    if high < math.inf:
        return f"a finite number between {low:g} and {high:g}"
    if low > -math.inf:
        return f"a finite number {'>' if above_low else '≥'} {low:g}"
    return "a finite number"


def number(low: float = -math.inf, high: float = math.inf, above_low: bool = False) -> Any:
    """A finite float in [low, high] (in (low, high] when ``above_low``); booleans and text refused."""
    rule = _number_rule(low, high, above_low)

    def check(value: object) -> float:
        is_number = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if not (is_number and math.isfinite(value) and low <= value <= high and not (above_low and value == low)):
            raise _broken(rule, value)
        return float(value)

    return Annotated[float, BeforeValidator(check)]


def whole(low: int = 0) -> Any:
    """An int ≥ low; booleans, text and fractions refused."""
    rule = f"a whole number ≥ {low}"

    def check(value: object) -> int:
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
            raise _broken(rule, value)
        return int(value)

    return Annotated[int, BeforeValidator(check)]


def choice(options: tuple[str, ...]) -> Any:
    rule = " or ".join(repr(o) for o in options)

    def check(value: object) -> str:
        if value not in options:
            raise _broken(rule, value)
        return value

    return Annotated[str, BeforeValidator(check)]


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _broken("a non-empty text", value)
    return value


def _month(value: object) -> str:
    if not isinstance(value, str) or not _MONTH.fullmatch(value):
        raise _broken("a month written YYYY-MM", value)
    return value


def _names(allow_empty: bool) -> Callable[[object], tuple[str, ...]]:
    rule = "a list of distinct, non-empty names" + ("" if allow_empty else " (at least one)")

    def check(value: object) -> tuple[str, ...]:
        if not isinstance(value, list | tuple) or not (value or allow_empty):
            raise _broken(rule, value)
        if any(not isinstance(item, str) or not item.strip() for item in value) or len(set(value)) != len(value):
            raise _broken(rule, value)
        return tuple(value)

    return check


def _true_or_false(value: object) -> bool:
    if not isinstance(value, bool):
        raise _broken("true or false", value)
    return value


Text = Annotated[str, BeforeValidator(_text)]
Month = Annotated[str, BeforeValidator(_month)]
Names = Annotated[tuple[str, ...], BeforeValidator(_names(allow_empty=True))]
SomeNames = Annotated[tuple[str, ...], BeforeValidator(_names(allow_empty=False))]
Flag = Annotated[bool, BeforeValidator(_true_or_false)]
