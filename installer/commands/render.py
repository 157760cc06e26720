"""``fabrix render --answers F --out DIR [--all-targets]``: render, validate, then write."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from installer.commands.common import load_plan
from installer.errors import UsageError
from installer.output import Output
from installer.pipeline import render_checked
from installer.render import all_target_keys
from installer.render.bundle import MARKER, is_bundle_dir
from installer.state import fabrix_home


def _overlaps(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents


def check_out_dir(target: Path) -> None:
    """Refuse an ``--out`` that would put someone's files at risk (before anything is rendered).

    A render may create a folder, fill an empty one, or refresh a folder an earlier render wrote
    (it carries the marker file). It never writes into any other non-empty folder, a file, a link,
    or FABRIX_HOME (where every install keeps its secrets and journal) or a folder around it.
    """
    fix_new = "pass --out a new or empty folder (or one an earlier `fabrix render` wrote)"
    if target.is_symlink():
        raise UsageError(f"--out {target}: is a symbolic link; fabrix does not write through links", fix_new)
    if target.exists() and not target.is_dir():
        raise UsageError(f"--out {target}: is a file, not a folder; fabrix will not replace it", fix_new)
    real = Path(os.path.realpath(target))
    home = Path(os.path.realpath(fabrix_home()))
    if _overlaps(real, home):
        raise UsageError(
            f"--out {target}: overlaps FABRIX_HOME ({home}), where installs keep their secrets and journal",
            "pass --out a folder outside FABRIX_HOME",
        )
    if real.is_dir() and any(real.iterdir()) and not is_bundle_dir(real):
        raise UsageError(
            f"--out {target}: the folder is not empty and was not written by fabrix (no {MARKER} file)",
            fix_new,
        )


def run(args: argparse.Namespace, out: Output) -> int:
    plan = load_plan(args)
    target = Path(args.out)
    check_out_dir(target)
    keys = all_target_keys() if args.all_targets else None
    rendered = render_checked(plan, keys)
    bundle = rendered.bundle
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
