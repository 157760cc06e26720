"""Benchmark: all Azure checks against the fake ARM with a fixed latency added to every request.

Prints how long the whole report takes compared with one request and with the serial sum
(the same checks, one call at a time). Target: total ≤ 3 × one request.

    .venv/bin/python bench/preflight.py [--latency 0.2] [--target aca|aks]

Not part of the test suite (no timed assertions in tests).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from installer.azure import SignInOptions, sign_in  # noqa: E402
from installer.azure.clients import RetrySettings  # noqa: E402
from installer.checks.azure import azure_checks  # noqa: E402
from installer.checks.azure.run import CACHE_RETRY, CACHE_SESSION, CACHE_WORKERS  # noqa: E402
from installer.checks.base import CheckContext, Status, run_checks  # noqa: E402
from installer.plan import InstallPlan  # noqa: E402
from tests.azure import scenarios  # noqa: E402
from tests.azure.fake_arm import FakeArm  # noqa: E402
from tests.azure.stub_az import StubAz, user_claims  # noqa: E402


def _plan(arm: FakeArm, target: str) -> InstallPlan:
    return InstallPlan(
        name="bench",
        model="container",
        target=target,
        azure={
            "cloud": "custom",
            "arm_endpoint": arm.url,
            "subscription_id": scenarios.SUBSCRIPTION,
            "location": scenarios.LOCATION,
            "resource_group": scenarios.RG,
        },
    )


def _run(plan: InstallPlan, cache: dict, workers: int = 16) -> tuple[float, list]:
    start = time.monotonic()
    results = list(run_checks(azure_checks(plan), CheckContext(plan=plan, cache=cache), max_workers=workers))
    return time.monotonic() - start, results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds added to every ARM request")
    parser.add_argument("--target", choices=["aca", "aks"], default="aca")
    args = parser.parse_args()

    tmpdir = tempfile.TemporaryDirectory(prefix="fabrix-bench-")
    stub = StubAz(Path(tmpdir.name) / "bin", user_claims(scenarios.OID, scenarios.TENANT))
    os.environ["PATH"] = f"{stub.folder}{os.pathsep}{os.environ.get('PATH', '')}"
    for var in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"):
        os.environ.pop(var, None)
    retry = RetrySettings(total=0)

    with FakeArm(scenarios.healthy()) as arm:
        os.environ["REQUESTS_CA_BUNDLE"] = arm.ca_path
        plan = _plan(arm, args.target)
        _run(plan, {CACHE_RETRY: retry})  # warm-up: imports, TLS, first-use costs
        arm.latency = args.latency

        # One request, on a warm session.
        session = sign_in(SignInOptions(cloud="custom", arm_endpoint=arm.url))
        client = session.clients.subscriptions()
        client.subscriptions.get(scenarios.SUBSCRIPTION)
        t0 = time.monotonic()
        client.subscriptions.get(scenarios.SUBSCRIPTION)
        one = time.monotonic() - t0

        # The CLI's path: sign-in (metadata + az) and every check, concurrently.
        before = len(arm.requests)
        cli_total, results = _run(plan, {CACHE_RETRY: retry})
        cli_requests = len(arm.requests) - before
        bad = [r for r in results if r.status is not Status.passed]

        # The wizard's path: already signed in.
        before = len(arm.requests)
        tui_total, _ = _run(plan, {CACHE_RETRY: retry, CACHE_SESSION: session})
        tui_requests = len(arm.requests) - before

        # Serial: one check at a time, one call at a time.
        serial_total, _ = _run(plan, {CACHE_RETRY: retry, CACHE_WORKERS: 1}, workers=1)

    print(f"latency per request         {args.latency * 1000:.0f} ms (target {args.target}, {len(results)} checks)")
    print(f"one request                 {one:.3f} s")
    print(f"serial run (1 call at once) {serial_total:.3f} s")
    print(f"concurrent, with sign-in    {cli_total:.3f} s  ({cli_requests} requests)  "
          f"= {cli_total / one:.2f}x one request, {cli_total / serial_total:.2f}x serial")
    print(f"concurrent, signed in (TUI) {tui_total:.3f} s  ({tui_requests} requests)  "
          f"= {tui_total / one:.2f}x one request, {tui_total / serial_total:.2f}x serial")
    print(f"target: total <= 3x one request -> {'met' if cli_total <= 3 * one else 'NOT met'} (with sign-in), "
          f"{'met' if tui_total <= 3 * one else 'NOT met'} (signed in)")
    tmpdir.cleanup()
    if bad:
        print("unexpected results:", [(r.id, r.status.value, r.found) for r in bad])
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
