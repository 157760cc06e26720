"""Keycloak on every target, checked against what the real Keycloak 26 accepts.

The contract (tests/unit/data/vendor_contract/keycloak.yaml, each fact with its vendor or Keycloak
source) is checked on Compose, the ACA YAML, the AKS manifests, the flat ARM template and the Bicep
module; then each target's command and environment go through the stand-in's start-up rules
(tests/support/standin_checks/keycloak.sh, the rules the real server applies), which must accept
them — and must refuse the configuration fabrix rendered before (no KC_HOSTNAME, no command)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from installer.render import render_plan
from installer.render.aca import render_aca
from installer.render.aks import render_aks
from tests.unit.blueprint_plans import inp, plan

CONTRACT = yaml.safe_load((Path(__file__).parent / "data/vendor_contract/keycloak.yaml").read_text())
CHECK = Path(__file__).parents[1] / "support/standin_checks/keycloak.sh"
DOMAIN = "ai.contoso.example"
BUSYBOX = shutil.which("busybox") or "/bin/busybox"


class Target:
    """Keycloak's container as one target renders it: args, env (name → value), probes, replicas."""

    def __init__(self, args: list[str] | None, env: dict[str, str], ready: tuple[str, int] | None,
                 live: tuple[str, int] | None, max_replicas: int) -> None:
        self.args, self.env, self.ready, self.live, self.max_replicas = args or [], env, ready, live, max_replicas


def _compose() -> Target:
    doc = yaml.safe_load(render_plan(inp(plan(model="container", target="compose")), ["compose"]).text("compose.yaml"))
    svc = doc["services"]["keycloak"]
    env = {k: re.sub(r"\$\{[A-Z0-9_]+:\?[^}]*\}", "s3cret", str(v)) for k, v in svc["environment"].items()}
    test = " ".join(svc["healthcheck"]["test"])
    port, path = re.search(r"127\.0\.0\.1:(\d+)(/health/\w+)", test).groups()  # type: ignore[union-attr]
    return Target(svc.get("command"), env, (path, int(port)), None, 1)


def _aca_yaml() -> Target:
    doc = yaml.safe_load(render_aca(inp(plan(model="container", target="aca"))).text("aca/keycloak.yaml"))
    tpl = doc["properties"]["template"]
    c = tpl["containers"][0]
    env = {e["name"]: e.get("value", "s3cret").replace("${PUBLIC_DOMAIN}", DOMAIN) for e in c["env"]}
    probes = {p["type"]: (p["httpGet"]["path"], p["httpGet"]["port"]) for p in c["probes"]}
    return Target(c.get("args"), env, probes["Readiness"], probes["Liveness"], tpl["scale"]["maxReplicas"])


def _aks() -> Target:
    docs = list(yaml.safe_load_all(render_aks(inp(plan(model="container", target="aks"))).text("k8s/keycloak.yaml")))
    dep = next(d for d in docs if d and d["kind"] == "Deployment")
    assert not [d for d in docs if d and d["kind"] == "HorizontalPodAutoscaler"], "no autoscaler for one replica"
    c = dep["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value", "s3cret").replace("${PUBLIC_DOMAIN}", DOMAIN) for e in c["env"]}

    def probe(p: dict[str, Any]) -> tuple[str, int]:
        return p["httpGet"]["path"], p["httpGet"]["port"]

    return Target(c.get("args"), env, probe(c["readinessProbe"]), probe(c["livenessProbe"]), dep["spec"]["replicas"])


def _arm_value(value: str) -> str:
    """The few ARM expressions Keycloak's env uses, evaluated for a sample deployment."""
    if not value.startswith("["):
        return value
    m = re.fullmatch(r"\[format\('([^']*)', parameters\('publicDomain'\)\)\]", value)
    if m:
        return m.group(1).replace("{0}", DOMAIN)
    if "reference(" in value:
        return "server.postgres.database.azure.com"
    raise AssertionError(f"unexpected ARM expression in Keycloak's env: {value}")


def _arm() -> Target:
    arm = json.loads(render_aca(inp(plan(model="container", target="aca"))).text("arm/mainTemplate.json"))
    res = next(r for r in arm["resources"]
               if r["type"] == "Microsoft.App/containerApps" and "keycloak" in json.dumps(r["name"]))
    c = res["properties"]["template"]["containers"][0]
    env = {e["name"]: _arm_value(e["value"]) if "value" in e else "s3cret" for e in c["env"]}
    probes = {p["type"]: (p["httpGet"]["path"], p["httpGet"]["port"]) for p in c["probes"]}
    return Target(c.get("args"), env, probes["Readiness"], probes["Liveness"],
                  res["properties"]["template"]["scale"]["maxReplicas"])


def _bicep() -> Target:
    text = render_aca(inp(plan(model="container", target="aca"))).text("bicep/modules/compute.bicep")
    block = text[text.index("resource appKeycloak "):]
    block = block[:block.index("\nresource ", 1) if "\nresource " in block[1:] else len(block)]
    args = re.search(r"args: \[\s*((?:'[^']*'\s*)+)\]", block)
    env = {name: value.replace("${publicDomain}", DOMAIN)
           for name, value in re.findall(r"name: '(KC_[A-Z_]+)'\s+value: '([^']*)'", block)}
    env.update({name: "s3cret" for name in re.findall(r"name: '(KC_[A-Z_]+)'\s+secretRef:", block)})
    env.update({name: "server.example" for name in re.findall(r"name: '(KC_[A-Z_]+)'\s+value: [a-z]\w*\.", block)})
    probes = {t: (p, int(port)) for t, p, port in
              re.findall(r"type: '(\w+)'\s+httpGet: \{\s+path: '([^']+)'\s+port: (\d+)", block)}
    max_replicas = int(re.search(r"maxReplicas: (\d+)", block).group(1))  # type: ignore[union-attr]
    return Target(re.findall(r"'([^']*)'", args.group(1)) if args else None, env,
                  probes["Readiness"], probes["Liveness"], max_replicas)


TARGETS = {"compose": _compose, "aca-yaml": _aca_yaml, "aks": _aks, "arm": _arm, "bicep": _bicep}


@pytest.fixture(scope="module")
def rendered() -> dict[str, Target]:
    return {name: build() for name, build in TARGETS.items()}


@pytest.mark.parametrize("target", list(TARGETS))
def test_every_contract_setting_is_rendered_in_its_format(rendered: dict[str, Target], target: str) -> None:
    t = rendered[target]
    expected_args = CONTRACT["command"]["compose" if target == "compose" else "azure"]
    assert t.args == expected_args, f"{target}: Keycloak's command"
    for name, (fmt, source) in CONTRACT["env"].items():
        assert name in t.env, f"{target}: {name} missing ({source})"
        value = t.env[name]
        if fmt == "url":
            assert re.fullmatch(r"https?://[^/\s]+(/\S*)?", value), f"{target}: {name}={value!r} is not a full URL ({source})"
        elif fmt != "any":
            assert value == fmt, f"{target}: {name}={value!r}, the contract says {fmt!r} ({source})"
    assert t.max_replicas <= CONTRACT["max_replicas"], f"{target}: more than one Keycloak replica with a local cache"
    want_ready = (CONTRACT["health"]["readiness"]["path"], CONTRACT["health"]["readiness"]["port"])
    assert t.ready == want_ready, f"{target}: readiness {t.ready}"
    if t.live is not None:
        assert t.live == (CONTRACT["health"]["liveness"]["path"], CONTRACT["health"]["liveness"]["port"]), target


def test_azure_hostname_is_the_front_door_https_url(rendered: dict[str, Target]) -> None:
    for target in ("aca-yaml", "aks", "arm", "bicep"):
        assert rendered[target].env["KC_HOSTNAME"] == f"https://auth.{DOMAIN}", target
    assert rendered["compose"].env["KC_HOSTNAME"].startswith("http://auth.localhost:")


def _run_check(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    out = tmp_path / "standin.env"
    clean = {"PATH": "/usr/bin:/bin", "STANDIN_ENV_FILE": str(out), **env}
    return subprocess.run([BUSYBOX, "sh", str(CHECK), *args], env=clean, capture_output=True, text=True, timeout=10)


@pytest.mark.parametrize("target", list(TARGETS))
def test_keycloaks_start_rules_accept_every_target(rendered: dict[str, Target], target: str, tmp_path: Path) -> None:
    t = rendered[target]
    res = _run_check(t.args, t.env, tmp_path)
    assert res.returncode == 0, f"{target}: {res.stderr}"
    # ... and health is served where the probes look.
    served = (tmp_path / "standin.env").read_text()
    assert f"{t.ready[1]}:{t.ready[0]}" in served  # type: ignore[index]


BEFORE = {  # what fabrix rendered before this fix (Compose; Azure had no command at all)
    "KC_HEALTH_ENABLED": "true", "KC_CACHE": "local", "KC_PROXY_HEADERS": "xforwarded",
    "KC_HOSTNAME_BACKCHANNEL_DYNAMIC": "true", "KC_HTTP_ENABLED": "true", "KC_DB": "postgres",
    "KC_DB_URL_HOST": "postgres",
}


@pytest.mark.parametrize(("args", "env", "message"), [
    (["start-dev"], BEFORE, "hostname-backchannel-dynamic must be set to false when no hostname is provided"),
    ([], {**BEFORE, "KC_HOSTNAME": "https://auth.example.com"}, "Usage: kc.sh"),
    (["start-dev"], {**BEFORE, "KC_HOSTNAME": "auth.example.com"},
     "hostname-backchannel-dynamic must be set to false if hostname is not provided as full URL"),
    (["start"], {"KC_HTTP_ENABLED": "true"}, "hostname is not configured"),
    (["start"], {"KC_HOSTNAME": "https://auth.example.com"}, "Key material not provided to setup HTTPS"),
    (["start-dev"], {"KC_HTTP_RELATIVE_PATH": ""}, "SRCFG00040"),
])
def test_keycloaks_start_rules_refuse_what_keycloak_refuses(args: list[str], env: dict[str, str], message: str,
                                                           tmp_path: Path) -> None:
    res = _run_check(args, env, tmp_path)
    assert res.returncode != 0
    assert message in res.stderr


def test_health_is_served_only_where_keycloak_serves_it(tmp_path: Path) -> None:
    _run_check(["start-dev"], {"KC_HEALTH_ENABLED": "false"}, tmp_path)
    assert (tmp_path / "standin.env").read_text().strip() == "HEALTH=''"
    _run_check(["start-dev"], {"KC_HEALTH_ENABLED": "true", "KC_HTTP_MANAGEMENT_HEALTH_ENABLED": "false"}, tmp_path)
    assert "8080:/health/ready" in (tmp_path / "standin.env").read_text()
