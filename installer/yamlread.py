"""Reading YAML fabrix wrote itself (rendered bundles, the catalog): libyaml's safe loader when
PyYAML was built with it, which reads the same documents into the same values several times
faster than the pure-Python one. The same ``yaml.YAMLError`` family is raised on bad input.

User-written files (answers) keep their own strict loader in ``installer.answers``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _loader(text: Any) -> type:
    # libyaml raises TypeError on anything but text or a stream; PyYAML's own loader fails on
    # such input the way callers already handle (a value from a broken document, say).
    return SafeLoader if isinstance(text, (str, bytes)) or hasattr(text, "read") else yaml.SafeLoader


def safe_load(text: str | bytes) -> Any:
    return yaml.load(text, Loader=_loader(text))  # noqa: S506 - a safe loader (libyaml's or PyYAML's)


def safe_load_all(text: str | bytes) -> Iterator[Any]:
    return yaml.load_all(text, Loader=_loader(text))  # noqa: S506 - a safe loader
