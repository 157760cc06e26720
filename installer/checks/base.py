"""The check framework: a check is a function ``(CheckContext) -> CheckResult``.

Checks run concurrently in threads; a slow one never holds back the others, and a check that
raises becomes ``unknown`` ("could not verify") — never ``pass``.
"""

from __future__ import annotations

import concurrent.futures as cf
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from installer.catalog import Catalog, load_catalog
from installer.plan import InstallPlan


class Status(StrEnum):
    passed = "pass"
    warn = "warn"
    fail = "fail"
    unknown = "unknown"  # could not verify (timeout, throttling, an API error)


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    status: Status
    found: str
    remedy: str = ""
    # True when the failure means a required tool (Docker, Compose v2) is missing: exit code 3.
    tool_missing: bool = False
    duration: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["status"] = self.status.value
        out["duration"] = round(self.duration, 3)
        return out


@dataclass
class CheckContext:
    plan: InstallPlan
    catalog: Catalog = field(default_factory=load_catalog)
    # Shared, lazily filled facts (e.g. the Docker client or an Azure credential), keyed by name.
    cache: dict[str, Any] = field(default_factory=dict)


CheckFn = Callable[[CheckContext], CheckResult]
# ``ctx.cache`` key: time.monotonic() by which the report must be complete (set by ``run_checks``).
CACHE_DEADLINE = "checks.deadline"


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    run: CheckFn


def _run_one(check: Check, ctx: CheckContext) -> CheckResult:
    start = time.monotonic()
    try:
        result = check.run(ctx)
    except Exception as exc:  # a check's bug or an API error must not sink the report
        result = CheckResult(
            id=check.id,
            title=check.title,
            status=Status.unknown,
            found=f"could not verify: {type(exc).__name__}: {exc}",
            remedy="re-run `fabrix check`; if it persists, report it with the log",
        )
    duration = time.monotonic() - start
    return CheckResult(**{**result.__dict__, "duration": duration})


def run_checks(
    checks: Iterable[Check],
    ctx: CheckContext,
    timeout: float = 60.0,
    max_workers: int = 16,
) -> Iterator[CheckResult]:
    """Yield results as they finish. A check still running after ``timeout`` is reported unknown."""
    checks = list(checks)
    if not checks:
        return
    # Checks that retry (Azure: 429 + Retry-After) plan their waits to end before this.
    ctx.cache.setdefault(CACHE_DEADLINE, time.monotonic() + timeout)
    pool = cf.ThreadPoolExecutor(max_workers=min(max_workers, len(checks)), thread_name_prefix="check")
    futures = {pool.submit(_run_one, c, ctx): c for c in checks}
    try:
        for future in cf.as_completed(futures, timeout=timeout):
            yield future.result()
    except cf.TimeoutError:
        for future, check in futures.items():
            if not future.done():
                yield CheckResult(
                    id=check.id,
                    title=check.title,
                    status=Status.unknown,
                    found=f"could not verify: no answer within {timeout:.0f}s",
                    remedy="check the network or the Docker daemon, then re-run `fabrix check`",
                    duration=timeout,
                )
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def summarize(results: Iterable[CheckResult]) -> dict[str, int]:
    counts = {s.value: 0 for s in Status}
    for r in results:
        counts[r.status.value] += 1
    return counts


def exit_code_for(results: list[CheckResult]) -> int:
    """0 every check passed or warned · 1 something failed · 3 Docker/Compose (a required tool) is
    missing · 4 nothing failed, but some check could not be verified (``unknown``).

    Every check that applies to a plan is required, so "could not verify" is never 0: a pipeline
    gate must not pass when ARM throttled every call or answered 403 everywhere."""
    if any(r.tool_missing and r.status is Status.fail for r in results):
        return 3
    if any(r.status is Status.fail for r in results):
        return 1
    if any(r.status is Status.unknown for r in results):
        return 4
    return 0
