"""Offline checks for the manual runbook: the five steps, this plan's names, a checklist, no secrets."""

from __future__ import annotations

import re

from installer.render import Bundle, RenderInput
from installer.render.workload import azure_apps, azure_names
from installer.validate import Finding
from installer.validate.postdeploy import postdeploy_findings
from installer.validate.aca import validate_aca_apps
from installer.validate.secretscan import scan_bundle

V = "runbook"
RUNBOOK = "RUNBOOK.md"
STEPS = (
    "Provision the network, Key Vault, Storage, PostgreSQL and Redis",
    "Deploy the Flowise, Open WebUI, Core and Miso containers",
    "Entra ID single sign-on and Key Vault references",
    "Connectors",
    "Audit",
)


def validate_runbook(bundle: Bundle, inp: RenderInput) -> list[Finding]:
    if RUNBOOK not in bundle.files:
        return [Finding(V, RUNBOOK, "missing from the bundle")]
    text = bundle.text(RUNBOOK)
    findings: list[Finding] = []
    headings = re.findall(r"^## Step (\d): (.+)$", text, flags=re.M)
    if [(int(n), t) for n, t in headings] != list(enumerate(STEPS, 1)):
        findings.append(Finding(V, RUNBOOK, f"the five manual steps must appear in order as '## Step N: …'; found {headings}"))
    names = azure_names(inp.plan)
    for label, value in (("resource group", names.resource_group), ("region", names.location),
                         ("Key Vault", names.key_vault), ("identity", names.identity),
                         ("Container Apps environment", names.aca_environment)):
        if value not in text:
            findings.append(Finding(V, RUNBOOK, f"does not name the plan's {label} {value!r}"))
    for app in azure_apps(inp, "aca"):
        if f"aca/{app.name}.yaml" not in text:
            findings.append(Finding(V, RUNBOOK, f"does not deploy {app.name} (aca/{app.name}.yaml)"))
    sections = re.split(r"^## Step \d: ", text, flags=re.M)[1:]
    for number, body in enumerate(sections, 1):
        if "- [ ] " not in body:
            findings.append(Finding(V, RUNBOOK, f"step {number} has no checklist item ('- [ ] …')"))
        if "```sh" not in body and number != 0:
            findings.append(Finding(V, RUNBOOK, f"step {number} has no commands"))
    if text.count("```") % 2:
        findings.append(Finding(V, RUNBOOK, "an unclosed code block"))
    if re.search(r"\{\{|\{%", text):
        findings.append(Finding(V, RUNBOOK, "holds unrendered template syntax"))
    findings += validate_aca_apps(bundle, inp)
    findings += scan_bundle(bundle, inp.secrets)
    findings += postdeploy_findings(bundle, inp)
    return findings
