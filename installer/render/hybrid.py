"""Hybrid: control plane in Azure, data and connectors on-prem, mutual TLS between them.

Azure part: the foundation (Container Apps) and every app except the dataplane; the Miso
controller's ingress requires a client certificate and accepts only the on-prem egress range.
On-prem part (``onprem/``): a Compose bundle with the dataplane (connectors) and its own
PostgreSQL and Redis, so documents, vectors and records stay on-prem — nothing replicates them to
Azure — plus an nginx forward proxy that presents the runner's client certificate to the control
plane and verifies the control plane's server certificate. The runner only dials out: no
inbound port is published on-prem.
"""

from __future__ import annotations

from typing import Any

from installer.catalog import Component
from installer.connections import DEFAULT_LOCATION, REDIS_PORT, database_url_var, redis_url
from installer.errors import UsageError
from installer.labels import LABEL_COMPONENT, LABEL_INSTALL, LABEL_MANAGED, LABEL_RUN, project_name
from installer.render import Bundle, RenderInput
from installer.render.aca import app_body, foundation
from installer.render.azure.hybrid_ingress import (
    ACA_PRIVATE_DNS,
    CONTROL_PLANE,
    ONPREM_CIDR_PARAM,
    ONPREM_CIDR_VAR,
    RUNNER,
)
from installer.render.compose import INITDB_SCRIPT, RUN_ID_VALUE, initdb_context
from installer.render.templating import render_template
from installer.render.workload import DEPLOY_VALUES, azure_apps, azure_names, placeholder
from installer.render.yamlout import dump
from installer.secrets import env_name


ONPREM_DATA = ("postgres", "redis")  # stay on-prem with the runner
# The mTLS forward proxy is plumbing of this model only, not a platform component.
PROXY_IMAGE = "nginx:1.27-alpine"
PROXY_PORT = 8443
CERT_DIR = "/etc/fabrix-certs"
ONPREM_CIDR = ONPREM_CIDR_VAR
PUBLIC_DOMAIN = "PUBLIC_DOMAIN"  # the Front Door domain, in the runner's .env
CONTROL_PLANE_HOST = "CONTROL_PLANE_HOST"


def _labels(plan_name: str, component: str) -> dict[str, str]:
    return {LABEL_INSTALL: plan_name, LABEL_MANAGED: "true", LABEL_COMPONENT: component, LABEL_RUN: RUN_ID_VALUE}


def _required(var: str) -> str:
    return "${" + var + ":?" + var + " missing from .env (see HYBRID.md)}"


def _healthcheck(test: list[str], interval: str, timeout: str, retries: int, start: str) -> dict[str, Any]:
    return {"test": test, "interval": interval, "timeout": timeout, "retries": retries, "start_period": start}


def runner_url(target: Component) -> tuple[str, list[str]]:
    """Where the on-prem runner reaches ``target``, and the .env names that URL needs.

    Itself and its own data services: on its Compose network. The controller: through the mTLS proxy (private
    path, client certificate). Apps browsers reach (Keycloak): their Front Door URL, over TLS,
    exactly as a browser does, so tokens carry the issuer the control plane expects."""
    if target.name in ONPREM_DATA or target.name == RUNNER:  # on its own Compose network
        return f"http://{target.name}:{target.port}", []
    if target.name == CONTROL_PLANE:
        return f"http://mtls-proxy:{PROXY_PORT}", []
    if target.route is not None and target.route.frontdoor:
        return f"https://{target.route.host}.{_required(PUBLIC_DOMAIN)}", [PUBLIC_DOMAIN]
    raise ValueError(f"the on-prem runner has no path to {target.name}: not on Front Door, not the control plane")


def onprem_compose(inp: RenderInput) -> tuple[dict[str, Any], list[str]]:
    """The runner's compose document and the .env names it needs."""
    plan, cat = inp.plan, inp.catalog
    env_names: list[str] = []
    services: dict[str, Any] = {}
    volumes: dict[str, Any] = {}
    for name in (*ONPREM_DATA, RUNNER):
        comp = cat.components[name]
        env: dict[str, str] = {}
        for key, raw in comp.env.items():
            if isinstance(raw, str):
                env[key] = raw
            elif "secret" in raw:
                var = env_name(str(raw["secret"]))
                env_names.append(var)
                env[key] = _required(var)
            elif "database_url" in raw:
                # Composed from the role's password (like Compose): the operator puts it in .env.
                var = database_url_var(comp, str(raw["database_url"]))
                env_names.append(var)
                env[key] = _required(var)
            elif "redis_url" in raw:
                env[key] = redis_url("redis", REDIS_PORT)
            elif "location" in raw:
                env[key] = plan.azure.location or DEFAULT_LOCATION
            elif "allowed_origins" in raw:
                continue  # CORS origins of browser clients: the on-prem runner serves none
            elif "host" in raw:
                env[key] = str(raw["host"])
            elif "url" in raw or "public_url" in raw:
                target = cat.components[str(raw.get("url") or raw.get("public_url"))]
                env[key], needs = runner_url(target)
                env_names += needs
            else:
                env[key] = plan.identity.admin_email
        h = comp.health
        svc: dict[str, Any] = {
            "image": plan.image_for(name, cat),
            "init": True,
            "restart": "unless-stopped",
            "environment": env,
            "healthcheck": _healthcheck(h.test, h.interval, h.timeout, h.retries, h.start_period),
            "labels": _labels(plan.name, name),
            "networks": ["runner"],
        }
        if comp.command:
            svc["command"] = comp.command
        if comp.volumes:
            svc["volumes"] = []
            for vol in comp.volumes:
                key = f"{name}-{vol.name}"
                volumes[key] = {"labels": {LABEL_INSTALL: plan.name, LABEL_MANAGED: "true"}}
                svc["volumes"].append({"type": "volume", "source": key, "target": vol.path})
        if name == "postgres":
            svc["volumes"].append({"type": "bind", "source": "./initdb", "target": "/docker-entrypoint-initdb.d", "read_only": True})
            for role in initdb_context(cat, list(ONPREM_DATA) + [RUNNER])["roles"]:
                env[role["env"]] = _required(role["env"])
                env_names.append(role["env"])
        if name == RUNNER:
            svc["depends_on"] = {d: {"condition": "service_healthy"} for d in (*ONPREM_DATA, "mtls-proxy")}
        services[name] = svc
    services["mtls-proxy"] = {
        "image": PROXY_IMAGE,
        "init": True,
        "restart": "unless-stopped",
        "environment": {CONTROL_PLANE_HOST: _required(CONTROL_PLANE_HOST), "NGINX_ENVSUBST_FILTER": "^CONTROL_PLANE_"},
        "volumes": [
            {"type": "bind", "source": "./nginx", "target": "/etc/nginx/templates", "read_only": True},
            {"type": "bind", "source": "./certs", "target": CERT_DIR, "read_only": True},
        ],
        "healthcheck": _healthcheck(["CMD", "wget", "-q", "-O", "/dev/null", f"http://127.0.0.1:{PROXY_PORT}/healthz"], "10s", "3s", 10, "5s"),
        "labels": _labels(plan.name, "mtls-proxy"),
        "networks": ["runner"],
    }
    env_names.append(CONTROL_PLANE_HOST)
    doc = {
        "name": project_name(plan.name),
        "services": services,
        "networks": {"runner": {"labels": {LABEL_INSTALL: plan.name, LABEL_MANAGED: "true"}}},
        "volumes": volumes,
    }
    return doc, sorted(set(env_names))


def control_plane_body(inp: RenderInput, app_name: str) -> dict[str, Any]:
    """An Azure app's Container App body; the control plane gets mTLS and the on-prem allowlist."""
    names = azure_names(inp.plan)
    app = next(a for a in azure_apps(inp, "aca") if a.name == app_name)
    # The control plane's ingress: the same design the ARM/Bicep foundation deploys (hybrid_ingress.py).
    return app_body(inp, app, names, onprem_cidr=placeholder(ONPREM_CIDR))


def hybrid_apps(inp: RenderInput) -> list[str]:
    return [a.name for a in azure_apps(inp, "aca") if a.name != RUNNER]


def render_hybrid(inp: RenderInput) -> Bundle:
    from installer.render.postdeploy import add_postdeploy

    plan, cat = inp.plan, inp.catalog
    names = azure_names(plan)
    bundle = foundation(inp, "aca")
    # The Azure PostgreSQL holds the Azure apps' databases; the runner's stay on-prem.
    script = add_postdeploy(bundle, inp, components=[
        n for n in plan.enabled_components(cat) if n != RUNNER and n not in ONPREM_DATA])
    apps = {a.name: a for a in azure_apps(inp, "aca")}
    enabled = plan.enabled_components(cat)
    missing = [n for n in (CONTROL_PLANE, RUNNER) if n not in enabled]
    if missing:
        raise UsageError(
            f"the hybrid model runs the AI Fabrix core across Azure and on-prem, but {', '.join(missing)} "
            "is not in the plan",
            "enable miso-controller and dataplane (they need the vendor's registry: images.registry), "
            "or choose the container model",
        )
    for name in hybrid_apps(inp):
        bundle.add(f"aca/{name}.yaml", render_template(
            "aca/app.yaml.j2", app=apps[name], plan=plan, names=names, body=dump(control_plane_body(inp, name))))
    bundle.add("aca/README.md", render_template(
        "aca/README.md.j2", plan=plan, names=names, apps=[apps[n] for n in hybrid_apps(inp)],
        deploy_values=DEPLOY_VALUES, postdeploy=script))
    doc, env_names = onprem_compose(inp)
    bundle.add("onprem/compose.yaml", "# On-prem connector runner for AI Fabrix install " + plan.name
               + " (hybrid model). See HYBRID.md.\n" + dump(doc))
    bundle.add("onprem/.env.example", "# Names only: copy the values from the install's secrets.env and the control-plane host.\n"
               + "".join(f"{n}=\n" for n in env_names))
    bundle.add(f"onprem/{INITDB_SCRIPT}", render_template(
        "compose/initdb.sh.j2", **initdb_context(cat, list(ONPREM_DATA) + [RUNNER])))
    bundle.add("onprem/nginx/default.conf.template", render_template(
        "hybrid/mtls.conf.j2", port=PROXY_PORT, cert_dir=CERT_DIR, host_var=CONTROL_PLANE_HOST))
    bundle.add("onprem/certs/make-certs.sh", render_template("hybrid/make-certs.sh.j2", plan=plan, names=names))
    bundle.add("HYBRID.md", render_template(
        "hybrid/HYBRID.md.j2", plan=plan, names=names, azure_apps=hybrid_apps(inp), runner=RUNNER,
        runner_image=plan.image_for(RUNNER, cat), env_names=env_names, proxy_image=PROXY_IMAGE,
        control_plane=CONTROL_PLANE, onprem_cidr=ONPREM_CIDR, onprem_cidr_param=ONPREM_CIDR_PARAM,
        host_var=CONTROL_PLANE_HOST, public_domain=PUBLIC_DOMAIN, aca_dns=ACA_PRIVATE_DNS.format(names.location),
        postdeploy=script, initdb=INITDB_SCRIPT))
    return bundle
