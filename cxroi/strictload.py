"""Read YAML and JSON text strictly: a key given twice in one mapping is an error naming the key
and its line, instead of the last value silently winning. Standard library and PyYAML only."""

from __future__ import annotations

import json
from typing import Any

import yaml


class DuplicateKeyError(ValueError):
    """A mapping repeats a key; the message names the key and the line (1-based)."""


class _StrictSafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key repeated in one mapping."""


def _construct_mapping(loader: _StrictSafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # keys merged in with << may be overridden by the mapping's own keys
        key = loader.construct_object(key_node, deep=deep)
        line = key_node.start_mark.line + 1
        try:
            first = seen.get(key)
        except TypeError:
            continue  # an unhashable key is refused by the constructor below
        if first is not None:
            raise DuplicateKeyError(f"line {line}: key '{key}' is given twice in the same mapping "
                                    f"(first on line {first})")
        seen[key] = line
    return loader.construct_mapping(node, deep=deep)


_StrictSafeLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(text: str) -> Any:
    """Parse YAML like ``yaml.safe_load``; raises :class:`DuplicateKeyError` for a repeated key
    and ``yaml.YAMLError`` for malformed text."""
    return yaml.load(text, Loader=_StrictSafeLoader)


def load_json(text: str) -> Any:
    """Parse JSON like ``json.loads``; raises :class:`DuplicateKeyError` for a repeated key and
    ``json.JSONDecodeError`` for malformed text."""
    return json.loads(text, object_pairs_hook=_unique_pairs)


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict:
    result: dict = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateKeyError(f"key '{key}' is given twice in the same object")
        result[key] = value
    return result
