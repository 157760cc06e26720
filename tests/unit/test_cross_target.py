"""One answers file, four targets: Compose, ACA, AKS and the ARM template agree on every
component, image and port (the catalog is the single source)."""

from __future__ import annotations

import json

import yaml

from installer.render import render_plan
from installer.render.aca import render_aca
from installer.render.aks import render_aks
from tests.unit.blueprint_plans import inp, plan


def test_compose_aca_aks_and_arm_agree_on_components_images_and_ports() -> None:
    p = plan(model="container", target="aks")
    i = inp(p)
    compose = yaml.safe_load(render_plan(inp(plan(model="container", target="compose")), ["compose"]).text("compose.yaml"))
    aca_bundle = render_aca(i)
    aks_bundle = render_aks(i)

    compose_apps = {}
    for name, svc in compose["services"].items():
        comp = i.catalog.components[name]
        if comp.kind == "app":
            compose_apps[name] = (svc["image"], comp.port)
            # The container port Compose publishes (or routes to) is the catalog's.
            published = {str(port.get("target")) for port in svc.get("ports", []) if isinstance(port, dict)}
            assert not published or str(comp.port) in published, (name, published)

    aca = {}
    for path in aca_bundle:
        if path.startswith("aca/") and path.endswith(".yaml"):
            doc = yaml.safe_load(aca_bundle.text(path))
            c = doc["properties"]["template"]["containers"][0]
            aca[c["name"]] = (c["image"], doc["properties"]["configuration"]["ingress"]["targetPort"])

    aks = {}
    for path in aks_bundle:
        if path.startswith("k8s/") and path.endswith(".yaml"):
            for doc in yaml.safe_load_all(aks_bundle.text(path)):
                if doc and doc["kind"] == "Deployment":
                    c = doc["spec"]["template"]["spec"]["containers"][0]
                    aks[doc["metadata"]["name"]] = (c["image"], c["ports"][0]["containerPort"])

    arm = json.loads(aca_bundle.text("arm/mainTemplate.json"))
    arm_apps = {}
    for res in arm["resources"]:
        if res["type"] == "Microsoft.App/containerApps":
            c = res["properties"]["template"]["containers"][0]
            arm_apps[c["name"]] = (c["image"], res["properties"]["configuration"]["ingress"]["targetPort"])
    types = {r["type"] for r in arm["resources"]}

    assert set(compose_apps) == set(aca) == set(aks) == set(arm_apps) == {
        "keycloak", "flowise", "openwebui", "miso-controller", "dataplane"}
    assert compose_apps == aca == aks == arm_apps
    # Data services: containers locally, managed services on Azure, never apps.
    assert {"postgres", "redis"} <= set(compose["services"])
    assert {"Microsoft.DBforPostgreSQL/flexibleServers", "Microsoft.Cache/redisEnterprise"} <= types
    aks_arm = json.loads(aks_bundle.text("arm/mainTemplate.json"))
    assert "Microsoft.ContainerService/managedClusters" in {r["type"] for r in aks_arm["resources"]}


def test_an_image_override_reaches_every_target() -> None:
    ref = "contosoacr.azurecr.io/flowise@sha256:" + "a" * 64
    p = plan(model="container", target="aca", images={"registry": "contosoacr.azurecr.io", "overrides": {"flowise": ref}})
    i = inp(p)
    assert ref in render_aca(i).text("aca/flowise.yaml")
    assert ref in render_aks(i).text("k8s/flowise.yaml")
    assert ref in render_aca(i).text("arm/mainTemplate.json")
    compose = render_plan(inp(plan(model="container", target="compose", images=p.images.model_dump())), ["compose"])
    assert ref in compose.text("compose.yaml")
