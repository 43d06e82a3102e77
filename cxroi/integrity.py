"""Tamper evidence of model artifacts: one content hash over the canonical manifest.

The manifest lists the SHA-256 of every file of its artifact (``files``), so a hash of the
manifest itself covers the files too. The canonical form is the manifest's JSON with sorted keys,
compact separators and UTF-8 text, without the hash field itself; the hash is its SHA-256 as 64
hex digits. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

#: the manifest field holding the content hash (absent in artifacts written before it existed)
HASH_FIELD = "content_hash"


def content_hash(raw: Mapping[str, Any]) -> str:
    """SHA-256 hex digest of the canonical form of a manifest read as JSON (``raw``); the
    ``content_hash`` field, if any, is left out."""
    body = {key: value for key, value in raw.items() if key != HASH_FIELD}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stamped(raw: Mapping[str, Any]) -> dict[str, Any]:
    """``raw`` with its content hash (re)computed and stored."""
    return {**raw, HASH_FIELD: content_hash(raw)}
