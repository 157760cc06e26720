"""``fabrix render --answers F --out DIR [--all-targets]``: render, validate, then write."""

from __future__ import annotations

import argparse
from pathlib import Path

from installer.commands.common import load_plan, render_and_validate
from installer.output import Output
from installer.render import all_target_keys


def run(args: argparse.Namespace, out: Output) -> int:
    plan = load_plan(args)
    keys = all_target_keys() if args.all_targets else None
    bundle, _ = render_and_validate(plan, keys)
    target = Path(args.out)
    bundle.write(target)
    out.result(
        {"out": str(target.resolve()), "files": list(bundle), "sha256": dict(bundle.digests())},
        f"wrote {len(bundle)} file(s) to {target}:\n" + "\n".join(f"  {p}" for p in bundle),
    )
    return 0
