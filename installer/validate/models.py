"""Offline checks for the hybrid, multi-cloud and development bundles.

Each one reuses the validators of the parts it is made of (foundation, Container Apps,
Kubernetes, Compose) and adds the rules of its model: mTLS and no replication for hybrid, an
egress allowlist ending in deny for multi-cloud, well-formed GitHub Actions with the promotion
gates for development. No bundle may hold a secret value.
"""

from __future__ import annotations

from typing import Any

import yaml

from installer import yamlread
from installer.render import Bundle, RenderInput
from installer.render.hybrid import CONTROL_PLANE, ONPREM_DATA, RUNNER, hybrid_apps
from installer.render.workload import azure_apps
from installer.validate import Finding
from installer.validate.aca import check_app, validate_aca_apps
from installer.validate.compose import validate_compose
from installer.validate.foundation_link import foundation_findings
from installer.validate.postdeploy import postdeploy_findings
from installer.validate.secretscan import scan_bundle

ONPREM = "onprem/"


def _yaml(bundle: Bundle, path: str, validator: str) -> tuple[Any, list[Finding]]:
    if path not in bundle.files:
        return None, [Finding(validator, path, "missing from the bundle")]
    try:
        return yamlread.safe_load(bundle.text(path)), []
    except yaml.YAMLError as exc:
        return None, [Finding(validator, path, f"not valid YAML: {exc}")]


# ---------------------------------------------------------------- hybrid

def validate_hybrid(bundle: Bundle, inp: RenderInput) -> list[Finding]:
    v = "hybrid"
    findings: list[Finding] = []
    apps = {a.name: a for a in azure_apps(inp, "aca")}
    for name in hybrid_apps(inp):
        doc, errs = _yaml(bundle, f"aca/{name}.yaml", v)
        findings += errs
        if doc is None:
            continue
        app = apps[name]
        expected = {"image": app.image, "port": app.port, "probes": app.health_path is not None,
                    "frontdoor": True if name == CONTROL_PLANE else app.frontdoor, "volumes": app.volumes}
        findings += check_app(f"aca/{name}.yaml", doc, expected)
        if name == CONTROL_PLANE:
            ingress = doc["properties"]["configuration"]["ingress"]
            if ingress.get("clientCertificateMode") != "require":
                findings.append(Finding(v, f"aca/{name}.yaml", "the control plane must require client certificates (mTLS)"))
            if not ingress.get("ipSecurityRestrictions") or any(r["action"] != "Allow" for r in ingress["ipSecurityRestrictions"]):
                findings.append(Finding(v, f"aca/{name}.yaml", "the control plane needs an IP allowlist for the on-prem runner"))
    if f"aca/{RUNNER}.yaml" in bundle.files:
        findings.append(Finding(v, f"aca/{RUNNER}.yaml", "the connector runner must run on-prem, not in Azure"))
    onprem = bundle.subtree(ONPREM)
    findings += [Finding(f.validator, ONPREM + f.path, f.message, f.severity) for f in validate_compose(onprem, inp)]
    doc, errs = _yaml(bundle, ONPREM + "compose.yaml", v)
    findings += errs
    if isinstance(doc, dict):
        services = doc.get("services") or {}
        extra = set(services) - {*ONPREM_DATA, RUNNER, "mtls-proxy"}
        if extra:
            findings.append(Finding(v, ONPREM + "compose.yaml", f"unexpected services {sorted(extra)}: the runner bundle holds connectors and their local data only"))
        for name, svc in services.items():
            if svc.get("ports"):
                findings.append(Finding(v, ONPREM + "compose.yaml", f"services.{name} publishes ports; the runner only dials out"))
        runner_env = (services.get(RUNNER) or {}).get("environment") or {}
        # Front Door URLs (TLS, what browsers use) of the apps on Front Door are fine; anything else
        # that leaves the host must go through the mTLS proxy, and only the controller is behind it.
        front_door = tuple(f"https://{c.route.host}.${{" for c in inp.catalog.components.values()
                           if c.route is not None and c.route.frontdoor)
        for key, value in runner_env.items():
            if isinstance(value, str) and value.startswith(("http://", "https://")) and "mtls-proxy" not in value \
                    and not value.startswith(front_door) \
                    and not any(value.startswith(f"http://{d}:") for d in (*ONPREM_DATA, RUNNER)):
                findings.append(Finding(v, ONPREM + "compose.yaml", f"{RUNNER} {key} bypasses the mTLS proxy: {value}"))
        for key, raw in inp.catalog.components[RUNNER].env.items():
            target = raw.get("url") or raw.get("public_url") if isinstance(raw, dict) else None
            if target and target != CONTROL_PLANE and "mtls-proxy" in str(runner_env.get(key, "")):
                findings.append(Finding(v, ONPREM + "compose.yaml",
                                        f"{RUNNER} {key} must reach {target}, but the mTLS proxy leads to {CONTROL_PLANE}"))
    conf = bundle.files.get(ONPREM + "nginx/default.conf.template", b"").decode()
    for directive in ("proxy_ssl_certificate ", "proxy_ssl_certificate_key ", "proxy_ssl_verify on", "proxy_ssl_trusted_certificate "):
        if directive not in conf:
            findings.append(Finding(v, ONPREM + "nginx/default.conf.template", f"mTLS proxy lacks `{directive.strip()}`"))
    script = bundle.files.get(ONPREM + "certs/make-certs.sh", b"").decode()
    if "extendedKeyUsage=clientAuth" not in script:
        findings.append(Finding(v, ONPREM + "certs/make-certs.sh", "must issue a clientAuth certificate"))
    if ".env" in onprem.files:
        findings.append(Finding(v, ONPREM + ".env", "the runner bundle must ship names only (.env.example)"))
    findings += postdeploy_findings(bundle, inp, [
        n for n in inp.plan.enabled_components(inp.catalog) if n != RUNNER and n not in ONPREM_DATA])
    findings += scan_bundle(bundle, inp.secrets)
    findings += foundation_findings(bundle, inp)
    return findings


# ---------------------------------------------------------------- multi-cloud

def validate_multicloud(bundle: Bundle, inp: RenderInput) -> list[Finding]:
    v = "multicloud"
    findings = validate_aca_apps(bundle, inp)
    egress, errs = _yaml(bundle, "multicloud/egress-rules.yaml", v)
    findings += errs
    if isinstance(egress, dict):
        for region, spec in (egress.get("regions") or {}).items():
            rules = spec.get("rules") or []
            prios = [r.get("priority") for r in rules]
            if prios != sorted(prios) or len(set(prios)) != len(prios):
                findings.append(Finding(v, "multicloud/egress-rules.yaml", f"{region}: priorities must be unique and ascending"))
            if not rules or rules[-1].get("access") != "Deny" or rules[-1].get("destinationAddressPrefix") != "Internet":
                findings.append(Finding(v, "multicloud/egress-rules.yaml", f"{region}: the last rule must deny Internet"))
            for r in rules[:-1]:
                if r.get("access") != "Allow" or r.get("destinationPortRange") != "443":
                    findings.append(Finding(v, "multicloud/egress-rules.yaml", f"{region}: {r.get('name')} must allow HTTPS (443) only"))
    conns, errs = _yaml(bundle, "multicloud/connectors.yaml", v)
    findings += errs
    if isinstance(conns, dict):
        rule_names = {r["name"] for spec in (egress or {}).get("regions", {}).values() for r in spec.get("rules", [])}
        for c in conns.get("connectors") or []:
            if c.get("egressRule") not in rule_names:
                findings.append(Finding(v, "multicloud/connectors.yaml", f"{c.get('name')}: no egress rule {c.get('egressRule')!r}"))
            for cred in c.get("credentials") or []:
                if set(cred) != {"keyVaultSecret"}:
                    findings.append(Finding(v, "multicloud/connectors.yaml", f"{c.get('name')}: credentials must be Key Vault secret names only"))
    findings += scan_bundle(bundle, inp.secrets)
    findings += foundation_findings(bundle, inp)
    return findings


# ---------------------------------------------------------------- development

def workflow_findings(path: str, doc: Any) -> list[Finding]:
    """A GitHub Actions workflow: the keys GitHub requires, OIDC instead of stored credentials."""
    v = "github-actions"
    if not isinstance(doc, dict):
        return [Finding(v, path, "must be a YAML mapping")]
    out: list[Finding] = []
    triggers = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` key as True
    if not doc.get("name") or not triggers:
        out.append(Finding(v, path, "needs `name` and `on`"))
    perms = doc.get("permissions")
    if not isinstance(perms, dict) or perms.get("id-token") != "write" or perms.get("contents") != "read":
        out.append(Finding(v, path, "permissions must be explicit: contents: read, id-token: write (OIDC)"))
    jobs = doc.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        return out + [Finding(v, path, "needs at least one job")]
    for name, job in jobs.items():
        if not isinstance(job, dict) or "runs-on" not in job or not isinstance(job.get("steps"), list) or not job["steps"]:
            out.append(Finding(v, path, f"jobs.{name}: needs runs-on and steps"))
            continue
        needs = job.get("needs", [])
        for dep in [needs] if isinstance(needs, str) else needs:
            if dep not in jobs:
                out.append(Finding(v, path, f"jobs.{name}: needs unknown job {dep!r}"))
        for i, step in enumerate(job["steps"]):
            if not isinstance(step, dict) or ("uses" in step) == ("run" in step):
                out.append(Finding(v, path, f"jobs.{name}.steps[{i}]: exactly one of uses/run"))
    text = yaml.safe_dump(doc)
    for banned in ("AZURE_CREDENTIALS", "client-secret", "creds:"):
        if banned in text:
            out.append(Finding(v, path, f"uses stored Azure credentials ({banned}); use OIDC (azure/login with client-id)"))
    return out


def validate_development(bundle: Bundle, inp: RenderInput) -> list[Finding]:
    from installer.render.development import ENVIRONMENTS, WORKFLOWS, compute_for

    v = "development"
    findings: list[Finding] = []
    docs: dict[str, Any] = {}
    for path in WORKFLOWS:
        doc, errs = _yaml(bundle, path, "github-actions")
        findings += errs
        if doc is not None:
            findings += workflow_findings(path, doc)
            docs[path] = doc
    images, infra = (yaml.safe_dump(docs.get(p, {})) for p in WORKFLOWS)
    # The deployed registry has public network access disabled: builds go through ACR Tasks
    # (az acr build) and a runner-side docker push could never reach it.
    for needle, what in (("trivy", "an image scan"), ("az acr build", "an image build in the registry (ACR Tasks)")):
        if needle not in images:
            findings.append(Finding(v, WORKFLOWS[0], f"missing {what}"))
    if "docker push" in images:
        findings.append(Finding(v, WORKFLOWS[0], "a GitHub-hosted runner cannot push to the private registry: build with az acr build"))
    jobs = (docs.get(WORKFLOWS[1]) or {}).get("jobs") or {}
    for tier in ENVIRONMENTS:
        plan_job, deploy_job = jobs.get(f"{tier.value}-plan"), jobs.get(f"{tier.value}-deploy")
        if not plan_job or not deploy_job:
            findings.append(Finding(v, WORKFLOWS[1], f"{tier.value}: needs a plan job and a deploy job"))
            continue
        steps = yaml.safe_dump(plan_job.get("steps"))
        for needle, what in (("what-if", "what-if"), ("az policy state", "a policy compliance gate"),
                             ("deployment group validate", "template validation")):
            if needle not in steps:
                findings.append(Finding(v, WORKFLOWS[1], f"{tier.value}-plan: missing {what} before promotion"))
        needs = deploy_job.get("needs") or []
        if f"{tier.value}-plan" not in needs:
            findings.append(Finding(v, WORKFLOWS[1], f"{tier.value}-deploy must wait for {tier.value}-plan"))
    if "validate" not in infra:
        findings.append(Finding(v, WORKFLOWS[1], "missing the IaC validation job"))
    for tier in ENVIRONMENTS:
        doc, errs = _yaml(bundle, f"environments/{tier.value}.yaml", v)
        findings += errs
        if isinstance(doc, dict) and doc.get("parameters") not in bundle.files:
            findings.append(Finding(v, f"environments/{tier.value}.yaml", f"parameter set {doc.get('parameters')} is not in the bundle"))
    if compute_for(inp) == "aks":
        from installer.validate.kubernetes import checkov_findings, validate_manifests

        findings += validate_manifests(bundle, inp) + checkov_findings(bundle)
    else:
        findings += validate_aca_apps(bundle, inp)
    findings += scan_bundle(bundle, inp.secrets)
    findings += foundation_findings(bundle, inp)
    return findings
