"""The one Jinja environment every renderer uses: strict, deterministic, templates from blueprints/."""

from __future__ import annotations

import json
import shlex
from functools import cache
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from installer.resources import blueprints_dir


def _to_json(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, indent=indent, sort_keys=False, ensure_ascii=False)


def _to_yaml(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000)


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(blueprints_dir())),
        undefined=StrictUndefined,  # a typo in a template fails the render, never renders blank
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["tojson_compact"] = _to_json
    env.filters["to_yaml"] = _to_yaml
    env.filters["yaml_str"] = lambda v: json.dumps(str(v))  # a JSON string is a valid YAML scalar
    # A shell word: `rg(prod)` becomes 'rg(prod)'; a plain value (westeurope) is left as it is.
    env.filters["sh"] = lambda v: shlex.quote(str(v))
    return env


def render_template(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)
