"""The currency every money figure of an export is stated in: an ISO 4217 code (``USD``, ``EUR``)
configured by ``CXROI_CURRENCY``, and the unit texts that carry it."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from cxroi.errors import CxroiError

CURRENCY_SETTING = "CXROI_CURRENCY"
DEFAULT_CURRENCY = "USD"
_CODE = re.compile(r"[A-Z]{3}")


def currency_code(environ: Mapping[str, str] | None = None) -> str:
    """The configured ISO 4217 currency code (three letters A–Z; :data:`DEFAULT_CURRENCY` when
    unset). A value that is not such a code is a plain error naming the setting."""
    environ = os.environ if environ is None else environ
    value = (environ.get(CURRENCY_SETTING) or "").strip() or DEFAULT_CURRENCY
    if not _CODE.fullmatch(value):
        raise CxroiError(f"{CURRENCY_SETTING} must be an ISO 4217 currency code of three capital letters such as "
                         f"USD or EUR (found {value!r})")
    return value


def money_unit(unit: str, code: str) -> str:
    """``unit`` with the word "currency" replaced by the currency ``code`` ("currency per
    month" → "EUR per month"); other units unchanged."""
    return re.sub(r"\bcurrency\b", code, unit)
