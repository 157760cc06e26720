"""YAML for people to review: no anchors/aliases, long keys (resource ids) kept as plain keys."""

from __future__ import annotations

from typing import Any

import yaml


class _ReviewDumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # a reviewer should never chase &id001
        return True

    def check_simple_key(self) -> bool:  # PyYAML writes "? key" for keys over 128 chars
        length = 0
        if isinstance(self.event, yaml.ScalarEvent):
            if self.analysis is None:
                self.analysis = self.analyze_scalar(self.event.value)
            length = len(self.analysis.scalar)
            return not self.analysis.multiline and length < 4096
        return super().check_simple_key()


def dump(value: Any) -> str:
    return yaml.dump(value, Dumper=_ReviewDumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=1000)


def dump_all(docs: list[Any]) -> str:
    return yaml.dump_all(docs, Dumper=_ReviewDumper, sort_keys=False, allow_unicode=True,
                         default_flow_style=False, width=1000, explicit_start=True)


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None  # multi-line values (SecretProviderClass objects) stay readable
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ReviewDumper.add_representer(str, _str)
