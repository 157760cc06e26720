"""YAML for people to review: no anchors/aliases, long keys (resource ids) kept as plain keys.

Two emitters write the same bytes: libyaml's (fast) and PyYAML's pure-Python one. Only the
Python one can be told to keep a key over 128 characters plain (libyaml writes ``? key`` for
those), so a document with such a key goes through it; every other document goes through
libyaml. tests/unit/test_yamlout.py holds them to byte-for-byte agreement on every bundle.
"""

from __future__ import annotations

from typing import Any

import yaml

# libyaml writes a mapping key as a plain key only up to 128 characters (emitter.c,
# yaml_emitter_check_simple_key); a margin keeps clear of how it counts.
_FAST_KEY_MAX = 100
_OPTIONS: dict[str, Any] = {"sort_keys": False, "allow_unicode": True, "default_flow_style": False, "width": 1000}


class _ReviewRepresenter:
    def ignore_aliases(self, data: Any) -> bool:  # a reviewer should never chase &id001
        return True


class _ReviewDumper(_ReviewRepresenter, yaml.SafeDumper):
    def check_simple_key(self) -> bool:  # PyYAML writes "? key" for keys over 128 chars
        length = 0
        if isinstance(self.event, yaml.ScalarEvent):
            if self.analysis is None:
                self.analysis = self.analyze_scalar(self.event.value)
            length = len(self.analysis.scalar)
            return not self.analysis.multiline and length < 4096
        return super().check_simple_key()


_FastDumper: type | None = None
if getattr(yaml, "__with_libyaml__", False):
    class _FastReviewDumper(_ReviewRepresenter, yaml.CSafeDumper):  # type: ignore[misc, name-defined]
        pass

    _FastDumper = _FastReviewDumper


def _longest_key(value: Any) -> int:
    if isinstance(value, dict):
        return max((max(len(str(k)), _longest_key(v)) for k, v in value.items()), default=0)
    if isinstance(value, (list, tuple)):
        return max((_longest_key(v) for v in value), default=0)
    return 0


def _dumper(docs: list[Any], fast: bool) -> type:
    if fast and _FastDumper is not None and all(_longest_key(d) <= _FAST_KEY_MAX for d in docs):
        return _FastDumper
    return _ReviewDumper


def dump(value: Any, fast: bool = True) -> str:
    return yaml.dump(value, Dumper=_dumper([value], fast), **_OPTIONS)


def dump_all(docs: list[Any], fast: bool = True) -> str:
    return yaml.dump_all(docs, Dumper=_dumper(docs, fast), explicit_start=True, **_OPTIONS)


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None  # multi-line values (SecretProviderClass objects) stay readable
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ReviewDumper.add_representer(str, _str)
if _FastDumper is not None:
    _FastDumper.add_representer(str, _str)
