"""Front Door Premium: WAF policy (Prevention, default and bot rule sets), one endpoint per
published app, and Private Link origins to the Container Apps environment."""

from __future__ import annotations

from installer.render import RenderInput
from installer.render.azure.api import API
from installer.render.azure.expr import Param, Prop, ResId
from installer.render.azure.model import Foundation, Resource
from installer.render.azure.names import Names
from installer.render.workload import AzureApp


def frontdoor(f: Foundation, names: Names, apps: list[AzureApp], env: Resource | None, inp: RenderInput) -> None:
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
    hosts = [a.route_host or a.name for a in published] if env is not None else ["ingress"]
    for host in hosts:
        endpoints.append(f.add(Resource(
            f"endpoint{host.capitalize()}", "Microsoft.Cdn/profiles/afdEndpoints", API["Microsoft.Cdn/profiles/afdEndpoints"],
            names.value("endpoint", host), "frontdoor", parent=profile, location="global",
            body={"properties": {"enabledState": "Enabled"}},
        )))
    if env is not None:
        for app, endpoint in zip(published, endpoints, strict=True):
            sym = "".join(p.capitalize() for p in app.name.split("-"))
            app_res = next(r for r in f.resources if r.type == "Microsoft.App/containerApps" and r.name == app.name)
            group = f.add(Resource(
                f"originGroup{sym}", "Microsoft.Cdn/profiles/originGroups", API["Microsoft.Cdn/profiles/originGroups"],
                app.name, "frontdoor", parent=profile, tags=False,
                body={"properties": {
                    "loadBalancingSettings": {"sampleSize": 4, "successfulSamplesRequired": 3, "additionalLatencyInMilliseconds": 50},
                    # One origin per group: no health probes (Front Door's advice; ACA probes the app itself).
                    "sessionAffinityState": "Disabled",
                }},
            ))
            fqdn = Prop(app_res, "configuration.ingress.fqdn")
            origin = f.add(Resource(
                f"origin{sym}", "Microsoft.Cdn/profiles/originGroups/origins", API["Microsoft.Cdn/profiles/originGroups/origins"],
                app.name, "frontdoor", parent=group, tags=False,
                body={"properties": {
                    "hostName": fqdn, "originHostHeader": fqdn, "httpPort": 80, "httpsPort": 443,
                    "priority": 1, "weight": 1000, "enabledState": "Enabled", "enforceCertificateNameCheck": True,
                    # Private Link to the Container Apps environment; approve the pending connection after deploy.
                    "sharedPrivateLinkResource": {
                        "privateLink": {"id": ResId(env)}, "groupId": "managedEnvironments",
                        "privateLinkLocation": Param("location"),
                        "requestMessage": f"AI Fabrix Front Door for {inp.plan.name}",
                    },
                }},
            ))
            f.add(Resource(
                f"route{sym}", "Microsoft.Cdn/profiles/afdEndpoints/routes", API["Microsoft.Cdn/profiles/afdEndpoints/routes"],
                app.name, "frontdoor", parent=endpoint, tags=False, depends=[origin],
                body={"properties": {
                    "originGroup": {"id": ResId(group)}, "supportedProtocols": ["Https"], "patternsToMatch": ["/*"],
                    "forwardingProtocol": "HttpsOnly", "linkToDefaultDomain": "Enabled", "httpsRedirect": "Enabled",
                    "enabledState": "Enabled",
                }},
            ))
    if not endpoints:
        return  # nothing published yet: the WAF policy waits for the first endpoint
    f.add(Resource(
        "wafSecurityPolicy", "Microsoft.Cdn/profiles/securityPolicies", API["Microsoft.Cdn/profiles/securityPolicies"],
        "waf", "frontdoor", parent=profile, tags=False,
        body={"properties": {"parameters": {
            "type": "WebApplicationFirewall", "wafPolicy": {"id": ResId(waf)},
            "associations": [{"domains": [{"id": ResId(e)} for e in endpoints], "patternsToMatch": ["/*"]}],
        }}},
    ))
