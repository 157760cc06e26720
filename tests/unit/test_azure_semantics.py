"""Issue 12: what the Azure blueprints mean once deployed, read from the rendered files (not their
schema): Front Door reaches every public app on every Azure target, the AKS ingress is internal,
the private cluster is driven through the run-command API, identities are split, Container
Insights has its data collection rule."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from installer.render.aca import render_aca
from installer.render.aks import INGRESS_CLASS, render_aks
from installer.render.azure.frontdoor import AKS_INGRESS_IP, PRIVATE_LINK_READY
from installer.render.workload import azure_apps, azure_names
from installer.validate.kubernetes import custom_findings, load_docs
from tests.support.arm_eval import ArmEval
from tests.unit.blueprint_plans import inp, plan


@pytest.fixture(scope="module")
def aks() -> tuple[Any, Any]:
    i = inp(plan(model="container", target="aks"))
    return i, render_aks(i)


@pytest.fixture(scope="module")
def aca() -> tuple[Any, Any]:
    i = inp(plan(model="container", target="aca"))
    return i, render_aca(i)


def _template(bundle: Any) -> dict[str, Any]:
    return json.loads(bundle.text("arm/mainTemplate.json"))


def _of_type(t: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [r for r in t["resources"] if r["type"] == rtype]


def _leaf(name: str, ev: ArmEval) -> str:
    return str(ev.value(name)).split("/")[-1]


@pytest.mark.parametrize("target", ["aca", "aks"])
def test_every_public_app_has_its_own_endpoint_origin_and_route(target: str, aca: Any, aks: Any) -> None:
    i, bundle = aca if target == "aca" else aks
    t = _template(bundle)
    ev = ArmEval(t, "AzureCloud")
    published = [a for a in azure_apps(i, target) if a.frontdoor]
    assert published
    groups = {_leaf(g["name"], ev): g for g in _of_type(t, "Microsoft.Cdn/profiles/originGroups")}
    origins = _of_type(t, "Microsoft.Cdn/profiles/originGroups/origins")
    routes = _of_type(t, "Microsoft.Cdn/profiles/afdEndpoints/routes")
    endpoints = _of_type(t, "Microsoft.Cdn/profiles/afdEndpoints")
    assert set(groups) == {a.name for a in published}
    assert len(origins) == len(routes) == len(endpoints) == len(published)
    # One route per endpoint: no two routes share an endpoint and a pattern (Front Door rejects that).
    route_keys = [(str(ev.value(r["name"])).rsplit("/", 1)[0], tuple(r["properties"]["patternsToMatch"])) for r in routes]
    assert len(set(route_keys)) == len(route_keys)
    for route in routes:
        assert route["properties"]["supportedProtocols"] == ["Https"]
        group_id = str(ev.value(route["properties"]["originGroup"]["id"]))
        assert group_id.split("/")[-1] in groups
        if target == "aca":
            assert route["properties"]["forwardingProtocol"] == "HttpsOnly"  # see suppression CKV_FABRIX_7
    for origin in origins:
        link = origin["properties"]["sharedPrivateLinkResource"]["privateLink"]["id"]
        if target == "aca":
            assert "Microsoft.App/managedEnvironments" in link and "condition" not in origin
        else:
            # The Private Link service AKS creates on the internal ingress load balancer.
            assert "Microsoft.Network/privateLinkServices" in link
            assert origin["properties"]["hostName"] == AKS_INGRESS_IP
            assert origin["condition"] == f"[parameters('{PRIVATE_LINK_READY}')]"
            assert re.fullmatch(r"[a-z]+\.fabrix\.internal", origin["properties"]["originHostHeader"])
    # The WAF is attached to every endpoint through a security policy.
    (policy,) = _of_type(t, "Microsoft.Cdn/profiles/securityPolicies")
    params = policy["properties"]["parameters"]
    assert "FrontDoorWebApplicationFirewallPolicies" in params["wafPolicy"]["id"]
    assert len(params["associations"][0]["domains"]) == len(endpoints)
    # Each app's public host is an output (no PUBLIC_DOMAIN output exists or is promised).
    hosts = [k for k in t["outputs"] if k.startswith("frontDoorHost")]
    assert len(hosts) == len(published)


def test_aks_ingress_is_internal_behind_private_link(aks: Any) -> None:
    i, bundle = aks
    t = _template(bundle)
    cluster = _of_type(t, "Microsoft.ContainerService/managedClusters")[0]["properties"]
    # The add-on's default controller would get a public load balancer: off.
    assert cluster["ingressProfile"]["webAppRouting"]["nginx"]["defaultIngressControllerType"] == "None"
    names = azure_names(i.plan)
    assert cluster["nodeResourceGroup"] == f"rg-{names.aks_cluster}-nodes"
    vnet = _of_type(t, "Microsoft.Network/virtualNetworks")[0]
    snet = next(s for s in vnet["properties"]["subnets"] if s["name"] == "snet-aks")
    assert snet["properties"]["privateLinkServiceNetworkPolicies"] == "Disabled"
    docs = load_docs(bundle)
    (controller,) = [d for _, d in docs if d["kind"] == "NginxIngressController"]
    ann = controller["spec"]["loadBalancerAnnotations"]
    assert ann["service.beta.kubernetes.io/azure-load-balancer-internal"] == "true"
    assert ann["service.beta.kubernetes.io/azure-pls-create"] == "true"
    assert ann["service.beta.kubernetes.io/azure-load-balancer-ipv4"] == AKS_INGRESS_IP
    origin_link = _of_type(t, "Microsoft.Cdn/profiles/originGroups/origins")[0]["properties"]["sharedPrivateLinkResource"]
    assert ann["service.beta.kubernetes.io/azure-pls-name"] in origin_link["privateLink"]["id"]
    assert cluster["nodeResourceGroup"] in origin_link["privateLink"]["id"]
    ingresses = [d for _, d in docs if d["kind"] == "Ingress"]
    assert ingresses and all(d["spec"]["ingressClassName"] == INGRESS_CLASS for d in ingresses)
    hosts = {r["host"] for d in ingresses for r in d["spec"]["rules"]}
    origin_hosts = {o["properties"]["originHostHeader"] for o in _of_type(t, "Microsoft.Cdn/profiles/originGroups/origins")}
    assert hosts == origin_hosts and not any(h.endswith("azurefd.net") for h in hosts)
    assert not [d for _, d in docs if d["kind"] == "Service" and d["spec"].get("type") == "LoadBalancer"]


def test_the_validator_rejects_a_public_ingress(aks: Any) -> None:
    i, bundle = aks
    docs = load_docs(bundle)
    for _, d in docs:
        if d["kind"] == "NginxIngressController":
            d["spec"]["loadBalancerAnnotations"]["service.beta.kubernetes.io/azure-load-balancer-internal"] = "false"
        if d["kind"] == "Ingress":
            d["spec"]["rules"][0]["host"] = "flowise-abc.z01.azurefd.net"
    messages = " | ".join(f.message for f in custom_findings(docs, i))
    assert "load-balancer-internal" in messages and "is Front Door's" in messages


def test_private_cluster_readme_uses_the_run_command_api(aks: Any) -> None:
    _, bundle = aks
    readme = bundle.text("k8s/README.md")
    commands = [ln for ln in readme.splitlines() if ln.startswith(("kubectl", "az aks get-credentials"))]
    assert commands == []  # kubectl only ever runs inside `az aks command invoke`
    assert "az aks command invoke" in readme
    assert f"{PRIVATE_LINK_READY}=true" in readme and "private-endpoint-connection approve" in readme
    assert "PUBLIC_DOMAIN output" not in readme and "frontDoorHost" in readme


def test_aks_control_plane_and_workload_identities_are_split(aks: Any) -> None:
    i, bundle = aks
    t = _template(bundle)
    ev = ArmEval(t, "AzureCloud")
    identities = {ev.value(r["name"]): r for r in _of_type(t, "Microsoft.ManagedIdentity/userAssignedIdentities")}
    workload = azure_names(i.plan).identity
    assert workload in identities and len(identities) == 2
    cluster = _of_type(t, "Microsoft.ContainerService/managedClusters")[0]
    (cluster_identity,) = cluster["identity"]["userAssignedIdentities"]
    assert workload not in cluster_identity  # the control plane is not the pods' identity
    # The pods' identity trusts the cluster's service accounts; it holds no network role.
    creds = _of_type(t, "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials")
    assert creds and all(ev.value(c["name"]).startswith(workload + "/") for c in creds)
    net_roles = [r for r in _of_type(t, "Microsoft.Authorization/roleAssignments") if "Network Contributor" in r["properties"]["description"]]
    assert len(net_roles) == 1 and workload not in net_roles[0]["properties"]["principalId"]
    assert "-control" in net_roles[0]["properties"]["principalId"]


def test_container_insights_has_a_data_collection_rule(aks: Any) -> None:
    _, bundle = aks
    t = _template(bundle)
    (dcr,) = _of_type(t, "Microsoft.Insights/dataCollectionRules")
    ext = dcr["properties"]["dataSources"]["extensions"][0]
    assert ext["extensionName"] == "ContainerInsights"
    flow = dcr["properties"]["dataFlows"][0]
    assert set(flow["streams"]) <= set(ext["streams"])
    assert flow["destinations"] == [d["name"] for d in dcr["properties"]["destinations"]["logAnalytics"]]
    (assoc,) = _of_type(t, "Microsoft.Insights/dataCollectionRuleAssociations")
    assert "Microsoft.ContainerService/managedClusters" in assoc["scope"]
    assert "dataCollectionRules" in assoc["properties"]["dataCollectionRuleId"]
