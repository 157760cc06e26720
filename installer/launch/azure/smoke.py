"""Smoke probes of the public endpoints (Front Door) after an Azure deployment.

A new Front Door endpoint and its routes take minutes to propagate (Microsoft documents up to
~20 minutes for configuration to reach every edge; DNS for a new ``*.azurefd.net`` name takes a
while too), so the probes retry within a budget (``FABRIX_SMOKE_BUDGET``, default 900 s) and an
endpoint that still does not answer then is a *warning*, not a failure: the deployment itself
succeeded and rolling it back for slow propagation would destroy a good install. The summary says
which endpoints answered.
"""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

from installer.launch.azure import arm
from installer.launch.azure.arm import Target
from installer.launch.journal import Phase
from installer.progress import State

if TYPE_CHECKING:
    from installer.launch.azure.backend import AzureBackend

SMOKE_ENV = "FABRIX_SMOKE_BUDGET"
DEFAULT_BUDGET = 900.0


def budget() -> float:
    try:
        return max(0.0, float(os.environ.get(SMOKE_ENV, DEFAULT_BUDGET)))
    except ValueError:
        return DEFAULT_BUDGET


def front_door_urls(b: AzureBackend, t: Target | None) -> dict[str, str]:
    """route name → https URL: the Front Door endpoint hosts of the stack's routes (custom
    domain when the plan has one, else the endpoint's own ``*.azurefd.net`` host)."""
    if t is None or b.stack is None:
        return {}
    ids = arm.stack_resource_ids(b.stack)
    endpoints = [rid for rid in ids if "/providers/microsoft.cdn/profiles/" in rid.lower()
                 and rid.lower().split("/afdendpoints/")[-1].count("/") == 0 and "/afdendpoints/" in rid.lower()]
    urls: dict[str, str] = {}
    domain = str((b.parameters.get("publicDomain") or {}).get("value") or "")
    for rid in endpoints:
        host = _endpoint_host(t, rid)
        if host:
            urls[rid.rsplit("/", 1)[-1]] = f"https://{host}/"
    if domain:
        urls.setdefault("platform", f"https://{domain}/")
    return urls


def _endpoint_host(t: Target, resource_id: str) -> str:
    try:
        res = t.resources.resources.get_by_id(resource_id, api_version="2024-09-01")
    except Exception:  # noqa: BLE001 - a host we cannot read is left out of the probes, not fatal
        return ""
    props = getattr(res, "properties", None) or {}
    return str(props.get("hostName") or "") if isinstance(props, dict) else ""


def probe(b: AzureBackend, t: Target) -> dict[str, str]:
    r = b.r
    urls = front_door_urls(b, t)
    if not urls:
        r.emit("probe", State.skipped, "no public endpoint to probe")
        return {}
    limit = budget()
    if limit <= 0:
        r.emit("probe", State.skipped, f"{SMOKE_ENV}=0: the {len(urls)} endpoint(s) are not probed")
        return {}
    r.journal_step("probe", Phase.begin, urls=sorted(urls.values()))
    r.emit("probe", State.running, f"probing {len(urls)} endpoint(s) for up to {limit:.0f}s: Front Door and DNS "
                                   "propagation take minutes, so a slow answer is expected, not a failure")
    end = time.monotonic() + limit
    results: dict[str, str] = {}
    pending = dict(urls)
    while pending:
        for name, url in list(pending.items()):
            ok, detail = _once(url)
            if ok:
                results[name] = detail
                r.emit("probe", State.done, f"{url} answered {detail}", service=name)
                del pending[name]
        if not pending or time.monotonic() >= end or r.cancel.wait(min(10.0, max(0.0, end - time.monotonic()))):
            break
    for name, url in pending.items():
        results[name] = "no answer yet"
        r.emit("probe", State.warning, f"{url} does not answer yet (propagation can take up to ~20 minutes); "
                                       "the deployment itself succeeded", service=name)
    r.journal_step("probe", Phase.end, answered=sorted(k for k, v in results.items() if v != "no answer yet"))
    return results


def _once(url: str) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - the install's own endpoint
            return True, f"HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        if exc.code < 500 or exc.code in (401, 403):
            return True, f"HTTP {exc.code}"
        return False, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return False, str(getattr(exc, "reason", exc))
