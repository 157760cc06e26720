"""Multi-cloud (Azure primary): the Container Apps deployment plus connector configuration and
per-region egress rules.

The platform stays in Azure; connectors in the dataplane reach data in other clouds over
outbound HTTPS only, and every destination is an explicit allow rule for the region it lives
in, ahead of a final deny (private by default with egress allowlisting, notes/platform-stack.md
§3). The connector catalogue lists what each connector needs; credentials are Key Vault secret
names, never values.
"""

from __future__ import annotations

from typing import Any

from installer.render import Bundle, RenderInput
from installer.render.aca import foundation, render_aca_apps
from installer.render.templating import render_template
from installer.render.workload import azure_names, placeholder
from installer.render.yamlout import dump

# Connector kinds and what they reach. Region rules use each cloud's published ranges; the
# person fills the CIDRs (or FQDNs for Azure Firewall) per region they actually use.
CONNECTORS: list[dict[str, Any]] = [
    {"name": "aws-s3", "cloud": "aws", "protocol": "https", "port": 443,
     "destination": "s3.{region}.amazonaws.com", "credentials": ["aws-access-key-id", "aws-secret-access-key"]},
    {"name": "gcp-gcs", "cloud": "gcp", "protocol": "https", "port": 443,
     "destination": "storage.googleapis.com", "credentials": ["gcp-service-account-json"]},
    {"name": "sharepoint", "cloud": "microsoft365", "protocol": "https", "port": 443,
     "destination": "graph.microsoft.com", "credentials": []},
]
# Azure services the platform itself needs from the apps subnet (service tags, regional where
# the tag has a regional form).
AZURE_EGRESS = [
    ("AzureActiveDirectory", None, 443),
    ("AzureMonitor", None, 443),
    ("AzureContainerRegistry", "regional", 443),
    ("Storage", "regional", 443),
    ("AzureKeyVault", "regional", 443),
]


def egress_rules(inp: RenderInput) -> dict[str, Any]:
    names = azure_names(inp.plan)
    region = names.location
    rules: list[dict[str, Any]] = []
    priority = 100
    for tag, scope, port in AZURE_EGRESS:
        rules.append({"name": f"allow-{tag.lower()}", "priority": priority, "direction": "Outbound",
                      "access": "Allow", "protocol": "Tcp", "destinationPortRange": str(port),
                      "destinationAddressPrefix": f"{tag}.{region}" if scope else tag})
        priority += 10
    for conn in CONNECTORS:
        var = f"{conn['name'].upper().replace('-', '_')}_CIDR"
        rules.append({"name": f"allow-connector-{conn['name']}", "priority": priority, "direction": "Outbound",
                      "access": "Allow", "protocol": "Tcp", "destinationPortRange": str(conn["port"]),
                      "destinationAddressPrefix": placeholder(var),
                      "description": f"{conn['cloud']} {conn['destination']} (set {var} per region, or remove)"})
        priority += 10
    rules.append({"name": "deny-internet", "priority": 4000, "direction": "Outbound", "access": "Deny",
                  "protocol": "*", "destinationPortRange": "*", "destinationAddressPrefix": "Internet"})
    return {
        "apiVersion": "fabrix/egress/v1",
        "primary": {"cloud": "azure", "region": region, "vnet": names.vnet, "subnet": "snet-apps"},
        "regions": {region: {"nsg": f"nsg-apps-{region}", "rules": rules}},
    }


def connectors_doc(inp: RenderInput) -> dict[str, Any]:
    names = azure_names(inp.plan)
    return {
        "apiVersion": "fabrix/connectors/v1",
        "runsIn": "dataplane",
        "keyVault": names.key_vault,
        "connectors": [
            {"name": c["name"], "cloud": c["cloud"], "enabled": False,
             "endpoint": c["destination"], "regions": [],
             "credentials": [{"keyVaultSecret": s} for s in c["credentials"]],
             "egressRule": f"allow-connector-{c['name']}"}
            for c in CONNECTORS
        ],
    }


def render_multicloud(inp: RenderInput) -> Bundle:
    from installer.render.postdeploy import add_postdeploy

    bundle = foundation(inp, "aca")
    script = add_postdeploy(bundle, inp)
    bundle.merge(render_aca_apps(inp, postdeploy=script))
    egress = egress_rules(inp)
    bundle.add("multicloud/egress-rules.yaml", "# Per-region egress allowlist for the apps subnet; apply with MULTICLOUD.md.\n" + dump(egress))
    bundle.add("multicloud/connectors.yaml", "# Connector configuration (Azure primary). Credentials are Key Vault secret names.\n" + dump(connectors_doc(inp)))
    bundle.add("MULTICLOUD.md", render_template(
        "hybrid/MULTICLOUD.md.j2", plan=inp.plan, names=azure_names(inp.plan), egress=egress, connectors=CONNECTORS,
        postdeploy=script))
    return bundle
