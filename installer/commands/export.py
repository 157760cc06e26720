"""The reviewer's archive: every rendered file, a MANIFEST of SHA-256 sums, the answers, the
prerequisite report (if given) and REVIEW.md — with no secret value anywhere.

Blueprints are rendered without secrets (Compose bundles then carry a names-only
``.env.example``); the archive is still scanned for every generated secret before it is written,
and a hit stops the export. Same inputs → byte-identical archive: sorted entries, fixed
timestamps and modes, deterministic compression.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


from installer import yamlread
from installer.commands.common import load_plan
from installer.pipeline import install_secrets
from installer.errors import OperationFailed, UsageError
from installer.fsutil import write_atomic
from installer.output import Output
from installer.plan import InstallPlan
from installer.render import Bundle, RenderInput, render_plan, renderer_keys
from installer.render.templating import render_template
from installer.render.workload import azure_apps, azure_names, data_services
from installer.review_facts import aks_exposure, aks_identity_facts, app_exposure, app_identity_facts, service_exposure
from installer.secrets import env_name
from installer.validate import Finding, validate_bundle

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
BLUEPRINTS = "blueprints/"
SECRET_FILES = (".env",)  # never exported, whatever a renderer produced


@dataclass(frozen=True)
class Review:
    plan: InstallPlan
    bundle: Bundle
    findings: list[Finding]
    report: dict[str, Any] | None


def _registry(image: str) -> str:
    first = image.split("/", 1)[0]
    if "/" in image and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def _pinning(image: str) -> str:
    if "@sha256:" in image:
        return "digest"
    tag = image.rsplit("/", 1)[-1].partition(":")[2]
    return "floating tag (latest/main)" if tag in ("", "latest", "main") else f"tag {tag}"


def _arm(bundle: Bundle) -> dict[str, Any] | None:
    for path in ("arm/mainTemplate.json", "mainTemplate.json"):
        if path in bundle.files:
            return json.loads(bundle.files[path])
    return None


def review_context(rv: Review, inp: RenderInput) -> dict[str, Any]:
    plan, cat = rv.plan, inp.catalog
    enabled = plan.enabled_components(cat)
    images = [
        {"component": c, "image": plan.image_for(c, cat), "registry": _registry(plan.image_for(c, cat)),
         "pinning": _pinning(plan.image_for(c, cat))}
        for c in enabled
        if not (plan.is_azure() and cat.components[c].kind == "data")
    ]
    ctx: dict[str, Any] = {"plan": plan, "images": images, "files": sorted(rv.bundle),
                           "findings": rv.findings, "report": rv.report, "keys": renderer_keys(plan)}
    secrets = sorted({s for c in enabled for s in cat.components[c].secrets_used()})
    if plan.is_azure():
        names = azure_names(plan)
        arm = _arm(rv.bundle) or {}
        types: dict[str, int] = {}
        roles = []
        for res in arm.get("resources", []):
            types[res["type"]] = types.get(res["type"], 0) + 1
            if res["type"] == "Microsoft.Authorization/roleAssignments":
                props = res.get("properties", {})
                roles.append({"what": props.get("description", ""), "scope": res.get("scope", "resource group")})
        apps = azure_apps(inp, "aks" if "k8s/namespace.yaml" in rv.bundle.files else "aca")
        # Exposure and identities as the rendered resources state them (installer/review_facts.py).
        manifests = [d for path in rv.bundle if path.startswith("k8s/") and path.endswith(".yaml")
                     for d in yamlread.safe_load_all(rv.bundle.text(path)) if isinstance(d, dict)]
        exposure = aks_exposure(manifests) if manifests else app_exposure(arm)
        ctx.update({
            "azure": True, "names": names, "resource_types": sorted(types.items()), "roles": roles,
            "exposure": exposure, "service_exposure": service_exposure(arm), "identity": app_identity_facts(arm),
            "aks_identity": aks_identity_facts(manifests, arm) if manifests else None,
            "apps": apps, "data": data_services(inp),
            "secrets": [(s, f"Key Vault {names.key_vault}, secret {s.replace('_', '-')}") for s in secrets],
            "secure_params": sorted(k for k, v in arm.get("parameters", {}).items() if v.get("type") == "secureString"),
        })
    else:
        ctx.update({
            "azure": False,
            "ports": [(c, plan.host_port(c, cat), cat.components[c].port) for c in enabled if plan.host_port(c, cat)],
            "bind": plan.compose.bind_address,
            "secrets": [(s, f"the install's secrets.env (mode 0600) as {env_name(s)}") for s in secrets],
        })
    return ctx


def _entry(name: str, data: bytes, zf: zipfile.ZipFile) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # unix, so the mode below is honoured everywhere
    info.external_attr = (0o644 & 0xFFFF) << 16
    zf.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)


def build_entries(plan: InstallPlan, answers: bytes, secrets: Mapping[str, str],
                  report: bytes | None) -> tuple[dict[str, bytes], list[Finding]]:
    """Archive entries (path → bytes) and the validator findings. Raises on validation errors."""
    review_inp = RenderInput(plan=plan, secrets={})  # blueprints for review carry no secret
    check_inp = RenderInput(plan=plan, secrets=dict(secrets))  # validators scan for the real ones
    keys = renderer_keys(plan)
    bundle = render_plan(review_inp, keys)
    for path in list(bundle.files):
        if path.rsplit("/", 1)[-1] in SECRET_FILES or path in bundle.private:
            del bundle.files[path]
            bundle.private.discard(path)
    findings: list[Finding] = []
    for key in keys:
        findings += validate_bundle(bundle, check_inp, key)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        listing = "\n  ".join(str(f) for f in errors[:20])
        raise OperationFailed(
            f"the rendered blueprints failed validation ({len(errors)} problem(s)); nothing was written:\n  {listing}",
            "this is a fabrix bug unless an image override or port in the answers caused it; report it with the answers file",
        )
    parsed_report = parse_report(report, "--report") if report is not None else None
    entries = {BLUEPRINTS + p: bundle.files[p] for p in bundle}
    entries["answers.yaml"] = answers
    if report is not None:
        entries["check-report.json"] = report
    rv = Review(plan, bundle, findings, parsed_report)
    entries["REVIEW.md"] = render_template("runbook/REVIEW.md.j2", **review_context(rv, review_inp)).encode("utf-8")
    manifest = "".join(f"{hashlib.sha256(entries[p]).hexdigest()}  {p}\n" for p in sorted(entries))
    entries["MANIFEST"] = manifest.encode("utf-8")
    leaks = [
        (path, name) for path, data in entries.items() for name, value in secrets.items()
        if len(value) >= 8 and value.encode("utf-8") in data
    ]
    if leaks:
        where = ", ".join(sorted({f"{p} ({n})" for p, n in leaks}))
        raise OperationFailed(f"a secret value would be exported in {where}; nothing was written",
                              "if it is in answers.yaml or check-report.json, remove it from the file you passed; "
                              "in a blueprint it is a fabrix bug: report it (without the values)")
    return entries, findings


def archive_bytes(entries: Mapping[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in sorted(entries):
            _entry(name, entries[name], zf)
    return buf.getvalue()


def parse_report(data: bytes, source: str) -> dict[str, Any]:
    """A `fabrix check --json` report: JSON Lines ({"type": "check"|"result"}) or one JSON document."""
    text = data.decode("utf-8", "replace")
    try:
        docs = [json.loads(text)]
    except json.JSONDecodeError:
        try:
            docs = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise UsageError(f"{source}: not JSON or JSON Lines ({exc.msg}, line {exc.lineno})",
                             "pass the output of `fabrix check --answers F --json > check.json`") from None
    checks: list[dict[str, Any]] = []
    summary: dict[str, Any] = {}
    for doc in docs:
        items = doc if isinstance(doc, list) else [doc]
        for item in items:
            if not isinstance(item, dict):
                continue
            if item.get("type") == "result":
                summary = item.get("summary") or {}
            elif item.get("type") == "check" or "status" in item:
                checks.append(item)
            elif isinstance(item.get("checks"), list):
                checks += [c for c in item["checks"] if isinstance(c, dict)]
                summary = item.get("summary") or summary
    if not checks and not summary:
        raise UsageError(f"{source}: holds no check results",
                         "pass the output of `fabrix check --answers F --json > check.json`")
    fields = ("id", "title", "status", "found", "remedy")
    normal = [{k: str(c.get(k) or "") for k in fields} for c in checks]
    return {"checks": sorted(normal, key=lambda c: c["id"]), "summary": summary}


def run(args: argparse.Namespace, out: Output) -> int:
    """``fabrix export --answers F --out bundle.zip [--report check.json]``."""
    answers_path = Path(args.answers)
    plan = load_plan(args)
    report: bytes | None = None
    if args.report:
        try:
            report = Path(args.report).read_bytes()
        except OSError as exc:
            raise UsageError(f"--report {args.report}: cannot read it ({exc.strerror})",
                             "pass a file written by `fabrix check --answers F --json`") from None
    target = Path(args.out)
    if target.suffix.lower() != ".zip":
        raise UsageError(f"--out {args.out}: the archive name must end in .zip", f"use --out {target.with_suffix('.zip')}")
    store = install_secrets(plan)
    entries, findings = build_entries(plan, answers_path.read_bytes(), store.values(), report)
    write_atomic(target, archive_bytes(entries))
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    warnings = [str(f) for f in findings if f.severity == "warning"]
    out.result(
        {"out": str(target.resolve()), "entries": sorted(entries), "sha256": digest, "warnings": warnings},
        f"wrote {target} ({len(entries)} entries, sha256 {digest[:16]}…); start with REVIEW.md"
        + (f"\n{len(warnings)} warning(s) are listed in REVIEW.md" if warnings else ""),
    )
    return 0
