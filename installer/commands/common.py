"""What several commands share: loading the plan from ``--answers``."""

from __future__ import annotations

import argparse

from installer.answers import load_answers
from installer.plan import InstallPlan


def load_plan(args: argparse.Namespace) -> InstallPlan:
    return load_answers(args.answers)
