"""Helpers shared by the fabrix custom checkov checks (ARM JSON and Bicep give the same shapes)."""

from __future__ import annotations

import re
from typing import Any


def dig(conf: Any, *path: str) -> Any:
    """``conf[path0][path1]…`` or None; lists of one item (checkov's ARM wrapping) are unwrapped."""
    node = conf
    # A conditional Bicep resource (`= if (cond) { … }`) arrives as {condition, config: {…}}.
    if isinstance(node, dict) and "condition" in node and isinstance(node.get("config"), dict) and "properties" not in node:
        node = node["config"]
    for key in path:
        if isinstance(node, list) and len(node) == 1:
            node = node[0]
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    if isinstance(node, list) and len(node) == 1 and not isinstance(node[0], (dict, list)):
        node = node[0]
    return node


def is_literal(value: Any, expected: Any) -> bool:
    """A literal equal to ``expected`` (strings compare case-insensitively; expressions never match)."""
    if isinstance(expected, str) and isinstance(value, str):
        return value.lower() == expected.lower()
    return value == expected


def leaf_name(conf: Any) -> str:
    """The last segment of a (child) resource name, also from ARM ``format('{0}/{1}', …, 'leaf')``."""
    name = dig(conf, "name")
    if not isinstance(name, str):
        return ""
    if name.startswith("["):
        match = re.search(r"'([^']*)'\)\]$", name)
        return match.group(1) if match else ""
    return name.rsplit("/", 1)[-1]
