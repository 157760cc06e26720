"""Front Door Premium: WAF policy (Prevention, default and bot rule sets) attached to every
endpoint through a security policy, and for every published app one endpoint, one origin group,
one Private Link origin and one route (``/*`` on its own endpoint, so routes never conflict).

Container Apps: the origin is the app's ingress FQDN, over Private Link to the environment.
AKS: the origin is the cluster's internal NGINX load balancer (the application routing add-on's
NginxIngressController in k8s/ingress.yaml, at a fixed private IP) through the Private Link
service AKS creates for it (``service.beta.kubernetes.io/azure-pls-create``) in the node resource
group. That service exists only once the manifests are applied, so the AKS origins and routes carry
a condition (``aksIngressPrivateLinkReady``): deploy, apply k8s/, deploy again with it true, approve
Front Door's connection — ``fabrix up`` does this (installer/launch/azure/private_link.py), and
k8s/README.md shows it by hand. Sources: learn.microsoft.com frontdoor/private-link,
frontdoor/standard-premium/how-to-enable-private-link-internal-load-balancer,
aks/app-routing-nginx-configuration, aks/internal-lb (Private Link service annotations).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from installer.render import RenderInput
from installer.render.azure.api import API
from installer.render.azure.expr import Call, Param, Prop, ResId
from installer.render.azure.model import Foundation, OutputSpec, Resource
from installer.render.azure.names import Names
from installer.render.workload import AzureApp

# The AKS ingress: a fixed private IP at the top of snet-aks (10.40.16.0/20; Azure reserves only the
# last address), so Front Door's origin host is known before the load balancer exists.
AKS_INGRESS_IP = "10.40.31.250"
PRIVATE_LINK_READY = "aksIngressPrivateLinkReady"


def aks_ingress_host(route_host: str) -> str:
    """The Host header Front Door sends to the AKS ingress for one app (and the Ingress rule's
    host): a private name, never under azurefd.net, which the cluster cannot own."""
    return f"{route_host}.fabrix.internal"


def aks_private_link_service(aks_cluster: str) -> str:
    return f"pls-{aks_cluster}"


@dataclass
class Origin:
    host: Any
    host_header: Any
    private_link: dict[str, Any]
    forwarding: str  # HttpsOnly (ACA ingress terminates TLS) | HttpOnly (AKS ingress, inside Private Link)
    condition: Any = None


def _symbol(name: str) -> str:
    return "".join(p.capitalize() for p in name.split("-"))


def frontdoor(f: Foundation, names: Names, apps: list[AzureApp], inp: RenderInput,
              origin_for: dict[str, Origin]) -> None:
    profile = f.add(Resource(
        "frontDoor", "Microsoft.Cdn/profiles", API["Microsoft.Cdn/profiles"], names.value("afd"), "frontdoor",
        location="global", body={"sku": {"name": "Premium_AzureFrontDoor"}, "properties": {"originResponseTimeoutSeconds": 60}},
    ))
    waf = f.add(Resource(
        "wafPolicy", "Microsoft.Network/FrontDoorWebApplicationFirewallPolicies",
        API["Microsoft.Network/FrontDoorWebApplicationFirewallPolicies"], names.value("waf"), "frontdoor",
        location="global",
        body={"sku": {"name": "Premium_AzureFrontDoor"}, "properties": {
            "policySettings": {"enabledState": "Enabled", "mode": "Prevention", "requestBodyCheck": "Enabled"},
            "managedRules": {"managedRuleSets": [
                {"ruleSetType": "Microsoft_DefaultRuleSet", "ruleSetVersion": "2.1", "ruleSetAction": "Block"},
                {"ruleSetType": "Microsoft_BotManagerRuleSet", "ruleSetVersion": "1.1"},
            ]},
        }},
    ))
    published = [a for a in apps if a.frontdoor]
    endpoints: list[Resource] = []
    for app in published:
        host = app.route_host or app.name
        sym = _symbol(app.name)
        origin_spec = origin_for[app.name]
        endpoint = f.add(Resource(
            f"endpoint{sym}", "Microsoft.Cdn/profiles/afdEndpoints", API["Microsoft.Cdn/profiles/afdEndpoints"],
            names.value("endpoint", host), "frontdoor", parent=profile, location="global",
            body={"properties": {"enabledState": "Enabled"}},
        ))
        endpoints.append(endpoint)
        f.outputs[f"frontDoorHost{sym}"] = OutputSpec(
            "string", Prop(endpoint, "hostName"), f"{app.title}: its Front Door host name (<endpoint>-<hash>.z01.azurefd.net)")
        group = f.add(Resource(
            f"originGroup{sym}", "Microsoft.Cdn/profiles/originGroups", API["Microsoft.Cdn/profiles/originGroups"],
            app.name, "frontdoor", parent=profile, tags=False,
            body={"properties": {
                "loadBalancingSettings": {"sampleSize": 4, "successfulSamplesRequired": 3, "additionalLatencyInMilliseconds": 50},
                # One origin per group: no health probes (Front Door's advice; the platform probes the app).
                "sessionAffinityState": "Disabled",
            }},
        ))
        origin = f.add(Resource(
            f"origin{sym}", "Microsoft.Cdn/profiles/originGroups/origins", API["Microsoft.Cdn/profiles/originGroups/origins"],
            app.name, "frontdoor", parent=group, tags=False, condition=origin_spec.condition,
            body={"properties": {
                "hostName": origin_spec.host, "originHostHeader": origin_spec.host_header, "httpPort": 80, "httpsPort": 443,
                "priority": 1, "weight": 1000, "enabledState": "Enabled", "enforceCertificateNameCheck": True,
                # Front Door's connection waits for approval: `fabrix up` approves it (AKS:
                # launch/azure/private_link.py), the README shows how by hand.
                "sharedPrivateLinkResource": origin_spec.private_link,
            }},
        ))
        f.add(Resource(
            f"route{sym}", "Microsoft.Cdn/profiles/afdEndpoints/routes", API["Microsoft.Cdn/profiles/afdEndpoints/routes"],
            app.name, "frontdoor", parent=endpoint, tags=False, depends=[origin], condition=origin_spec.condition,
            body={"properties": {
                "originGroup": {"id": ResId(group)}, "supportedProtocols": ["Https"], "patternsToMatch": ["/*"],
                "forwardingProtocol": origin_spec.forwarding, "linkToDefaultDomain": "Enabled", "httpsRedirect": "Enabled",
                "enabledState": "Enabled",
            }},
        ))
    if not endpoints:
        return  # nothing published: no endpoint to protect
    f.add(Resource(
        "wafSecurityPolicy", "Microsoft.Cdn/profiles/securityPolicies", API["Microsoft.Cdn/profiles/securityPolicies"],
        "waf", "frontdoor", parent=profile, tags=False,
        body={"properties": {"parameters": {
            "type": "WebApplicationFirewall", "wafPolicy": {"id": ResId(waf)},
            "associations": [{"domains": [{"id": ResId(e)} for e in endpoints], "patternsToMatch": ["/*"]}],
        }}},
    ))


def aca_origins(f: Foundation, apps: list[AzureApp], env: Resource, inp: RenderInput) -> dict[str, Origin]:
    out: dict[str, Origin] = {}
    for app in apps:
        if not app.frontdoor:
            continue
        app_res = next(r for r in f.resources if r.type == "Microsoft.App/containerApps" and r.name == app.name)
        fqdn = Prop(app_res, "configuration.ingress.fqdn")
        out[app.name] = Origin(fqdn, fqdn, {
            "privateLink": {"id": ResId(env)}, "groupId": "managedEnvironments",
            "privateLinkLocation": Param("location"),
            "requestMessage": f"AI Fabrix Front Door for {inp.plan.name}",
        }, "HttpsOnly")
    return out


def aks_origins(apps: list[AzureApp], node_resource_group: Any, pls_name: str, inp: RenderInput) -> dict[str, Origin]:
    pls = Call("resourceId", (node_resource_group, "Microsoft.Network/privateLinkServices", pls_name))
    return {
        app.name: Origin(
            AKS_INGRESS_IP, aks_ingress_host(app.route_host or app.name),
            {"privateLink": {"id": pls}, "privateLinkLocation": Param("location"),
             "requestMessage": f"AI Fabrix Front Door for {inp.plan.name}"},
            # The ingress serves plain HTTP on the internal load balancer; the hop from Front Door
            # runs inside Private Link only, never over the internet.
            "HttpOnly", condition=Param(PRIVATE_LINK_READY),
        )
        for app in apps if app.frontdoor
    }
