"""What the Azure checks of one run share: one sign-in, one HTTP session, and each ARM fact once.

Checks run concurrently (``checks.base.run_checks``). Facts several checks need (the providers
list, the caller's role assignments…) are fetched *once* — the first check to ask starts the call,
the others wait for the same result ("single flight") — so the whole report takes about as long
as the slowest chain of calls, not the sum of them. Independent calls inside one check go out
together through ``parallel``.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import functools
import threading
import time
import weakref
from urllib.parse import urlparse
from collections.abc import Callable
from typing import Any, TypeVar

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)

from installer.azure.clients import ClientFactory, RetrySettings
from installer.azure.credentials import AzureSession, SignInOptions, sign_in
from installer.azure.naming import AzureNames, names_for
from installer.checks.base import CACHE_DEADLINE, CheckContext, CheckResult, Status
from installer.errors import FabrixError

T = TypeVar("T")

CACHE_RUN = "azure.run"
CACHE_SESSION = "azure.session"  # an AzureSession the TUI already signed in
CACHE_RETRY = "azure.retry"  # RetrySettings override (tests, benchmarks)
CACHE_WORKERS = "azure.workers"  # threads for calls inside one check (bench: 1 = serial)
DEFAULT_BUDGET = 55.0  # seconds, when no report deadline is given (run_checks' default timeout is 60)
DEADLINE_MARGIN = 3.0  # seconds kept between the last retry and the report deadline, to report
_create_lock = threading.Lock()
_worker = threading.local()


def _mark_worker() -> None:
    _worker.active = True


CACHE_SIGNIN_ELSEWHERE = "azure.signin_elsewhere"  # where a device code can be had (the wizard's Target step)
CACHE_SIGNIN_EARLIER = "azure.signin_earlier"  # signin_advice.Attempts of an earlier sign-in (the wizard's device code)
SIGNIN_CHECK = "azure.signin"
NOT_SIGNED_IN = "not verified: Azure sign-in failed"
SUBSCRIPTION_CHECK = "azure.subscription"
ARM_UNREACHABLE = "not verified: no answer from ARM"


class Unverifiable(Exception):
    """A check cannot run (not signed in, no subscription chosen…): report ``unknown``.
    ``blocked_by``: the check whose failure is the cause, so reports group this one under it."""

    def __init__(self, found: str, remedy: str, blocked_by: str | None = None) -> None:
        super().__init__(found)
        self.found, self.remedy, self.blocked_by = found, remedy, blocked_by


class AzureRun:
    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self.plan = ctx.plan
        self.names: AzureNames = names_for(ctx.plan)
        self.subscription_id: str | None = ctx.plan.azure.subscription_id
        self.location: str | None = ctx.plan.azure.location
        self._session: AzureSession | None = ctx.cache.get(CACHE_SESSION)
        self._owns_session = self._session is None
        self._factory: ClientFactory | None = None
        report_deadline = ctx.cache.get(CACHE_DEADLINE)
        self.deadline: float = (float(report_deadline) if report_deadline else time.monotonic() + DEFAULT_BUDGET + DEADLINE_MARGIN) - DEADLINE_MARGIN
        self._sign_in_error: FabrixError | None = None
        self._lock = threading.Lock()
        self._facts: dict[str, cf.Future[Any]] = {}
        self.pool = cf.ThreadPoolExecutor(max_workers=int(ctx.cache.get(CACHE_WORKERS, 32)), thread_name_prefix="azure-call", initializer=_mark_worker)
        weakref.finalize(self, self.pool.shutdown, wait=False)

    @classmethod
    def of(cls, ctx: CheckContext) -> AzureRun:
        with _create_lock:
            run = ctx.cache.get(CACHE_RUN)
            if run is None:
                run = cls(ctx)
                ctx.cache[CACHE_RUN] = run
            return run

    # ---- scopes ----

    @property
    def subscription_scope(self) -> str:
        return f"/subscriptions/{self.require_subscription()}"

    @property
    def resource_group_scope(self) -> str:
        return f"{self.subscription_scope}/resourceGroups/{self.names.resource_group}"

    def require_subscription(self) -> str:
        if not self.subscription_id:
            raise Unverifiable(
                "no subscription chosen (azure.subscription_id is empty)",
                "set azure.subscription_id in the answers file (`az account list -o table` lists yours)",
                blocked_by="azure.subscription",
            )
        return self.subscription_id

    def require_location(self) -> str:
        if not self.location:
            raise Unverifiable(
                "no region chosen (azure.location is empty)",
                "set azure.location in the answers file (`az account list-locations -o table`)",
                blocked_by="azure.region",
            )
        return self.location

    # ---- sign-in (once) ----

    def session(self) -> AzureSession:
        with self._lock:
            if self._session is None and self._sign_in_error is None:
                try:
                    self._session = sign_in(SignInOptions.from_plan(self.plan),
                                            device_code_elsewhere=self.ctx.cache.get(CACHE_SIGNIN_ELSEWHERE),
                                            earlier=self.ctx.cache.get(CACHE_SIGNIN_EARLIER))
                except FabrixError as exc:
                    self._sign_in_error = exc
                else:
                    weakref.finalize(self, self._session.close)
            if self._session is not None and self._factory is None:
                # The run's own clients (also over a reused TUI sign-in): their retries end by the deadline.
                retry = dataclasses.replace(self.ctx.cache.get(CACHE_RETRY) or RetrySettings(), deadline=self.deadline)
                self._factory = ClientFactory(self._session.cloud, self._session.credential, retry)
                weakref.finalize(self, self._factory.close)
            if self._session is None:
                # Said once, by the sign-in check; every check that needs ARM points at it.
                raise Unverifiable(NOT_SIGNED_IN, "", blocked_by=SIGNIN_CHECK)
            return self._session

    def arm_unreachable(self) -> bool:
        """True when reading the subscription (every Azure plan's first ARM call) got no answer
        either: then the network, not this check, is the cause. Waits for that one call."""
        from installer.checks.azure import facts

        try:
            facts.subscription(self)
        except (ServiceRequestError, ServiceResponseError):
            return True
        except Exception:  # noqa: BLE001 - any other outcome: this check's own failure stands
            return False
        return False

    def sign_in_error(self) -> FabrixError | None:
        try:
            self.session()
        except Unverifiable:
            return self._sign_in_error
        return None

    @property
    def clients(self) -> ClientFactory:
        self.session()
        assert self._factory is not None
        return self._factory

    # ---- shared facts and fan-out ----

    def fact(self, key: str, fetch: Callable[[], T]) -> T:
        """``fetch()`` once per run; concurrent callers wait for the first call's result."""
        with self._lock:
            future = self._facts.get(key)
            owner = future is None
            if owner:
                future = cf.Future()
                self._facts[key] = future
        assert future is not None
        if owner:
            try:
                future.set_result(fetch())
            except BaseException as exc:  # every waiter sees the same failure
                future.set_exception(exc)
        return future.result()

    def parallel(self, *calls: Callable[[], Any]) -> list[Any]:
        """Run independent calls together; re-raise the first failure (the check is then unknown)."""
        if not calls:
            return []
        if getattr(_worker, "active", False):
            # Already on a pool thread: waiting there for more pool work could starve the pool.
            return [call() for call in calls]
        # The first call runs here, the rest on the pool: all start at once, and a nested
        # ``parallel`` inside the first call may still fan out.
        futures = [self.pool.submit(call) for call in calls[1:]]
        first = calls[0]()
        return [first, *(f.result() for f in futures)]


def missing_is_none(call: Callable[[], T]) -> Callable[[], T | None]:
    """A GET whose 404 means "not there" (a deleted vault, an existing resource)."""

    def wrapped() -> T | None:
        try:
            return call()
        except ResourceNotFoundError:
            return None
        except HttpResponseError as exc:
            if exc.status_code == 404:
                return None
            raise

    return wrapped


def _http_unknown(exc: HttpResponseError, run: AzureRun | None = None) -> tuple[str, str]:
    status = exc.status_code
    code = getattr(getattr(exc, "error", None), "code", None) or ""
    message = (str(getattr(exc, "message", "") or exc).strip().splitlines() or [""])[0][:300]
    retry_after = ""
    response = getattr(exc, "response", None)
    if response is not None:
        retry_after = response.headers.get("Retry-After", "") or ""
    found = f"could not verify: ARM answered {status} {code}: {message}".rstrip(": ")
    if status == 429:
        wait = f"; ARM asked to wait {retry_after} s (Retry-After {retry_after} s)" if retry_after else ""
        why = ""
        try:
            after = float(retry_after) if retry_after else None
        except ValueError:
            after = None
        if after is not None and run is not None:
            limit = run.clients.retry.max_retry_after
            if after > limit:
                why = f", longer than the {limit:g} s fabrix waits"
            elif time.monotonic() + after > run.deadline:
                why = ", which would end after the report's deadline"
        waited = ""
        if run is not None and run.clients.throttle.waits:
            log = run.clients.throttle
            waited = f"; this run already waited {log.seconds:g} s over {log.waits} throttled call(s)"
        return (f"could not verify: throttled — ARM answered 429 Too Many Requests{wait}{why}{waited}",
                "wait for the throttling window to pass, then re-run `fabrix check`; other tools using this subscription share the same request limits")
    if status in (401, 403):
        return found, "the signed-in principal needs read access: the Reader role on the subscription is enough for every check (`az role assignment create --assignee <you> --role Reader --scope /subscriptions/<id>`, by an Owner)"
    if status and status >= 500:
        return found, "an Azure-side error; re-run `fabrix check` (if it persists, check https://status.azure.com)"
    return found, "re-run `fabrix check`; if it persists, report it with the log"


def azure_check(check_id: str, title: str) -> Callable[[Callable[[AzureRun], CheckResult]], Callable[[CheckContext], CheckResult]]:
    """Turn ``fn(run) -> CheckResult`` into a framework check that reports every failure to get
    an answer as ``unknown`` — with what went wrong and what to do — never as ``pass``."""

    def decorate(fn: Callable[[AzureRun], CheckResult]) -> Callable[[CheckContext], CheckResult]:
        @functools.wraps(fn)
        def run_check(ctx: CheckContext) -> CheckResult:
            run = AzureRun.of(ctx)
            start = time.monotonic()
            try:
                return fn(run)
            except Unverifiable as exc:
                details = {"blocked_by": exc.blocked_by} if exc.blocked_by else {}
                return CheckResult(check_id, title, Status.unknown, exc.found, exc.remedy, details=details)
            except ClientAuthenticationError as exc:
                return CheckResult(check_id, title, Status.unknown, f"could not verify: token refused: {str(exc).splitlines()[0][:300]}", "sign in again (`az login`) and re-run `fabrix check`")
            except HttpResponseError as exc:
                found, remedy = _http_unknown(exc, run)
                return CheckResult(check_id, title, Status.unknown, found, remedy, details={"status": exc.status_code})
            except (ServiceRequestError, ServiceResponseError) as exc:
                if check_id != SUBSCRIPTION_CHECK and run.arm_unreachable():
                    # The subscription check says it once, with the fix; the rest point at it.
                    return CheckResult(check_id, title, Status.unknown, ARM_UNREACHABLE, "",
                                       details={"blocked_by": SUBSCRIPTION_CHECK})
                from installer.azure.signin_advice import network_reason

                host = urlparse(run.clients.cloud.arm_endpoint).hostname or run.clients.cloud.arm_endpoint
                return CheckResult(
                    check_id, title, Status.unknown,
                    f"could not verify: no answer from ARM ({host}) after {time.monotonic() - start:.0f}s: "
                    f"{network_reason(str(exc))}",
                    f"check this machine's network path to {host} (https, port 443: proxy, firewall, "
                    "REQUESTS_CA_BUNDLE), then re-run `fabrix check`",
                    details={"error": str(exc).splitlines()[0][:300]},
                )

        run_check.check_id = check_id  # type: ignore[attr-defined]
        run_check.check_title = title  # type: ignore[attr-defined]
        return run_check

    return decorate


def text(value: Any) -> str:
    """An SDK value as text: enum members (``EnforcementMode.DO_NOT_ENFORCE``) by their wire value."""
    return str(getattr(value, "value", value) or "")


def result(check_id: str, title: str, status: Status, found: str, remedy: str = "", **details: Any) -> CheckResult:
    return CheckResult(check_id, title, status, found, remedy, details=details)


__all__ = [
    "CACHE_RETRY",
    "CACHE_SIGNIN_ELSEWHERE",
    "CACHE_SESSION",
    "CACHE_WORKERS",
    "AzureRun",
    "RetrySettings",
    "Unverifiable",
    "azure_check",
    "missing_is_none",
    "result",
    "text",
]
