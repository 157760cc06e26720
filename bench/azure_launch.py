"""How close does `fabrix up` on Azure follow the deployment it watches, and how hard does it poll?

Against the HTTPS fake ARM (tests/azure), whose deployment stack progresses resource by resource
in simulated time from the template fabrix submits:
1. a fast calibration launch measures the deployment's simulated length L (submit → last resource);
2. each measured round runs the clock at L/TARGET simulated seconds per real second, so the
   deployment itself takes TARGET real seconds (default 60), with fabrix's default polling
   (5 s, or ARM's Retry-After when longer);
3. it prints fabrix's wall time of the deploy step over TARGET (goal ≤ 1.10) and the ARM requests
   per minute the fake answered while fabrix was polling (2 reads per poll: the stack and the
   deployment's operations; ARM's budget is 250 reads per principal, refilled at 25/s).
Not part of the test suite. Usage: .venv/bin/python bench/azure_launch.py [--rounds N] [--target S]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _environment(tmp: Path) -> Any:
    import trustme

    from tests.azure import scenarios
    from tests.azure.fake_arm import FakeArm
    from tests.azure.stub_az import StubAz, user_claims

    stub = StubAz(tmp / "bin", user_claims(scenarios.OID, scenarios.TENANT))
    os.environ["PATH"] = f"{stub.folder}:/usr/bin:/bin"
    for var in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "FABRIX_ARM_POLL_SECONDS"):
        os.environ.pop(var, None)
    os.environ.update(PUBLIC_DOMAIN="ai.contoso.test", FABRIX_SMOKE_BUDGET="0")
    arm = FakeArm(scenarios.healthy(), trustme.CA(), page_size=0).start()
    os.environ["REQUESTS_CA_BUNDLE"] = arm.ca_path
    os.environ["FABRIX_ARM_ENDPOINT"] = arm.url
    return arm


def _launch(arm: Any, home: Path, speed: float, poll: str | None) -> tuple[float, float, float, int, float]:
    """(deploy step wall seconds, simulated deployment seconds, fake speed, requests while polling, real polling seconds)."""
    from installer.answers import plan_from_dict
    from installer.launch.dispatch import launch
    from tests.azure import scenarios

    os.environ["FABRIX_HOME"] = str(home)
    if poll is None:
        os.environ.pop("FABRIX_ARM_POLL_SECONDS", None)
    else:
        os.environ["FABRIX_ARM_POLL_SECONDS"] = poll
    arm.deploy.clock.set_speed(speed)
    marks: dict[str, float] = {}

    def reporter(ev: Any) -> None:
        if ev.step == "deploy" and not ev.service and ev.message.startswith("submitting"):
            marks["start"] = time.monotonic()
        if ev.step == "deploy" and not ev.service and ev.message.startswith("deployed"):
            marks["end"] = time.monotonic()

    rg = f"rg-bench-{len(list(home.parent.iterdir()))}"
    plan = plan_from_dict({"apiVersion": "fabrix/v1", "name": "bench", "model": "container", "target": "aca",
                           "azure": {"cloud": "custom", "arm_endpoint": arm.url, "subscription_id": scenarios.SUBSCRIPTION,
                                     "location": scenarios.LOCATION, "resource_group": rg}})
    before = len(arm.deploy.log)
    result = launch(plan, reporter)
    if not result.ok:
        sys.exit(f"launch failed: {result.message}")
    stack = arm.deploy.stacks[(rg.lower(), "fabrix-bench")]
    d = stack.deployment
    simulated = max(op.end for op in d.ops) - d.submitted
    polled = [e for e in arm.deploy.log[before:] if marks["start"] <= e[0] <= marks["end"]]
    return marks["end"] - marks["start"], simulated, speed, len(polled), marks["end"] - marks["start"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--target", type=float, default=60.0, help="real seconds the deployment takes")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="fabrix-bench-az-") as tmp_str:
        tmp = Path(tmp_str)
        arm = _environment(tmp)
        try:
            _, length, _, _, _ = _launch(arm, tmp / "calibrate", 5000.0, "0.02")
            speed = length / args.target
            print(f"deployment: {length:.0f} simulated seconds; clock at {speed:.1f}x so it takes {args.target:.0f} s real")
            ratios, rates = [], []
            for i in range(args.rounds):
                wall, sim, sp, requests, seconds = _launch(arm, tmp / f"round{i}", speed, None)
                real = sim / sp
                ratios.append(wall / real)
                rates.append(requests / seconds * 60.0)
                print(f"round {i + 1}: fabrix deploy step {wall:.1f} s for a {real:.1f} s deployment "
                      f"(×{wall / real:.3f}); {requests} ARM requests while polling = {requests / seconds * 60.0:.0f}/min")
            print(f"median ratio ×{statistics.median(ratios):.3f} (goal ≤ 1.10); "
                  f"median {statistics.median(rates):.0f} ARM requests/min while polling")
        finally:
            arm.stop()


if __name__ == "__main__":
    main()
