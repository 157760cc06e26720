"""``fabrix schema``: print the answers-file JSON Schema."""

from __future__ import annotations

import argparse
import json

from installer.output import Output
from installer.plan import plan_json_schema


def schema_text() -> str:
    return json.dumps(plan_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def run(args: argparse.Namespace, out: Output) -> int:
    out.stdout.write(schema_text())
    return 0
