"""Offline checks for the Container Apps bundle: schema, exposure, identity, sizes, no secrets."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema
import yaml

from installer import yamlread
from installer.render import Bundle, RenderInput
from installer.render.workload import azure_apps
from installer.resources import blueprints_dir
from installer.validate import Finding
from installer.validate.postdeploy import postdeploy_findings
from installer.validate.foundation_link import foundation_findings
from installer.validate.memo import files_digest, identity, remembered
from installer.validate.secretscan import scan_bundle

V = "aca"


@cache
def _schema() -> dict[str, Any]:
    return json.loads((blueprints_dir() / "aca" / "containerapp.schema.json").read_text("utf-8"))


def _valid_pair(cpu: float, memory: str) -> bool:
    """Consumption profile: 0.25-vCPU steps up to 4, memory exactly 2 GiB per vCPU."""
    gib = float(memory.removesuffix("Gi"))
    return 0.25 <= cpu <= 4 and (cpu * 4).is_integer() and abs(gib - cpu * 2) < 1e-9


def check_app(path: str, doc: Any, expected: dict[str, Any]) -> list[Finding]:
    """Rules for one app file; ``expected`` is what the catalog says (image, port, frontdoor)."""
    out: list[Finding] = []
    errors = sorted(jsonschema.Draft202012Validator(_schema()).iter_errors(doc), key=lambda e: list(e.path))
    for err in errors:
        where = "/".join(str(p) for p in err.absolute_path) or "(top)"
        out.append(Finding("aca-schema", path, f"{where}: {err.message}"))
    if errors:
        return out
    props = doc["properties"]
    conf, tmpl = props["configuration"], props["template"]
    uamis = set(doc["identity"]["userAssignedIdentities"])
    container = tmpl["containers"][0]
    if conf["ingress"]["external"] != expected["frontdoor"]:
        out.append(Finding(V, path, (
            "ingress.external is true but the app is not Front-Door-facing" if conf["ingress"]["external"]
            else "ingress.external is false but Front Door must reach this app")))
    if conf["ingress"]["targetPort"] != expected["port"]:
        out.append(Finding(V, path, f"targetPort {conf['ingress']['targetPort']} != catalog port {expected['port']}"))
    if container["image"] != expected["image"]:
        out.append(Finding(V, path, f"image {container['image']} != plan image {expected['image']}"))
    for sec in conf.get("secrets", []):
        if sec["identity"] not in uamis:
            out.append(Finding(V, path, f"secret {sec['name']}: identity is not the app's user-assigned identity"))
    for reg in conf.get("registries", []):
        if reg["identity"] not in uamis:
            out.append(Finding(V, path, f"registry {reg['server']}: pulls must use the user-assigned identity"))
    declared = {s["name"] for s in conf.get("secrets", [])}
    for var in container.get("env", []):
        if "secretRef" in var and var["secretRef"] not in declared:
            out.append(Finding(V, path, f"env {var['name']}: secretRef {var['secretRef']} is not declared"))
    if not _valid_pair(float(container["resources"]["cpu"]), container["resources"]["memory"]):
        out.append(Finding(V, path, f"cpu {container['resources']['cpu']} / memory {container['resources']['memory']} is not a valid Container Apps combination"))
    if expected["probes"] and {p["type"] for p in container.get("probes", [])} != {"Liveness", "Readiness", "Startup"}:
        out.append(Finding(V, path, "liveness, readiness and startup probes are required"))
    out += _volume_findings(path, container, tmpl, expected.get("volumes", []))
    scale = tmpl["scale"]
    if scale["minReplicas"] > scale["maxReplicas"]:
        out.append(Finding(V, path, "scale.minReplicas exceeds maxReplicas"))
    return out


def _volume_findings(path: str, container: dict[str, Any], tmpl: dict[str, Any], data_paths: list[str]) -> list[Finding]:
    """Every mount names a declared volume; every catalog data path is an Azure Files environment storage
    (an EmptyDir would lose the app's data on each restart or new revision)."""
    out: list[Finding] = []
    volumes = {v["name"]: v for v in tmpl.get("volumes", [])}
    mounted = {}
    for mount in container.get("volumeMounts", []):
        vol = volumes.get(mount["volumeName"])
        if vol is None:
            out.append(Finding(V, path, f"volumeMount {mount['mountPath']}: no volume named {mount['volumeName']}"))
            continue
        mounted[mount["mountPath"]] = vol
        if vol["storageType"] == "AzureFile" and not vol.get("storageName"):
            out.append(Finding(V, path, f"volume {vol['name']}: AzureFile needs the environment storage name (storageName)"))
    for data_path in data_paths:
        vol = mounted.get(data_path)
        if vol is None:
            out.append(Finding(V, path, f"data volume {data_path} is not mounted"))
        elif vol["storageType"] != "AzureFile":
            out.append(Finding(V, path, f"data volume {data_path} is {vol['storageType']}: its data would not survive a "
                                        "restart; mount the Azure Files environment storage"))
    return out


def validate_aca_apps(bundle: Bundle, inp: RenderInput) -> list[Finding]:
    """Every enabled app has its Container App file and each file is right (once per distinct set
    of files in a render: ACA, hybrid and multi-cloud carry the same)."""
    key = ("aca-apps", files_digest(bundle, ("aca/",)), identity(inp))
    return remembered(key, lambda: _aca_app_findings(bundle, inp))


def _aca_app_findings(bundle: Bundle, inp: RenderInput) -> list[Finding]:
    apps = {a.name: a for a in azure_apps(inp, "aca")}
    findings: list[Finding] = []
    seen = set()
    for path in bundle:
        if not (path.startswith("aca/") and path.endswith(".yaml")):
            continue
        name = path.removeprefix("aca/").removesuffix(".yaml")
        try:
            doc = yamlread.safe_load(bundle.text(path))
        except yaml.YAMLError as exc:
            findings.append(Finding("yaml", path, f"not valid YAML: {exc}"))
            continue
        if name not in apps:
            findings.append(Finding(V, path, f"{name} is not an enabled app of this plan"))
            continue
        seen.add(name)
        app = apps[name]
        findings += check_app(path, doc, {"image": app.image, "port": app.port,
                                          "frontdoor": app.frontdoor, "probes": app.health_path is not None,
                                          "volumes": app.volumes})
    for missing in sorted(set(apps) - seen):
        findings.append(Finding(V, f"aca/{missing}.yaml", "missing: every enabled app needs its Container App file"))
    return findings


def validate_aca(bundle: Bundle, inp: RenderInput) -> list[Finding]:
    findings = validate_aca_apps(bundle, inp)
    findings += scan_bundle(bundle, inp.secrets)
    findings += foundation_findings(bundle, inp)
    findings += postdeploy_findings(bundle, inp)
    return findings
