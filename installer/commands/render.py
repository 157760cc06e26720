"""``fabrix render --answers F --out DIR [--all-targets]``: render, validate, then write."""

from __future__ import annotations

import argparse
from pathlib import Path

from installer.commands.common import load_plan
from installer.output import Output
from installer.pipeline import render_checked
from installer.render import all_target_keys


def run(args: argparse.Namespace, out: Output) -> int:
    plan = load_plan(args)
    keys = all_target_keys() if args.all_targets else None
    rendered = render_checked(plan, keys)
    bundle = rendered.bundle
    target = Path(args.out)
    bundle.write(target)
    warnings = [str(w) for w in rendered.warnings]
    text = f"wrote {len(bundle)} file(s) to {target}:\n" + "\n".join(f"  {p}" for p in bundle)
    if warnings:
        text += f"\n{len(warnings)} warning(s):\n" + "\n".join(f"  ⚠ {w}" for w in warnings)
    out.result(
        {"out": str(target.resolve()), "files": list(bundle), "sha256": dict(bundle.digests()), "warnings": warnings},
        text,
    )
    return 0
