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


# ---------------------------------------------------------------- one Container App, three renderings

def _is_expr(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("[") and not value.startswith("[[")


def _same_literal(arm: str, doc: Any, where: str) -> None:
    assert isinstance(doc, str) and doc, where
    if arm.startswith("[resourceId("):  # the same resource: …/providers/<type>/<name>
        assert doc.endswith("/providers/" + ArmEval({}, "AzureCloud").value(arm)), (where, arm, doc)


def _same_arm_yaml(arm: Any, doc: Any, where: str) -> None:
    """Field by field: equal literals; where the template has an expression (a resource id, a
    reference()), the YAML has the literal it stands for."""
    if _is_expr(arm):
        _same_literal(arm, doc, where)
    elif isinstance(arm, dict):
        assert isinstance(doc, dict) and len(arm) == len(doc), (where, sorted(arm), sorted(doc))
        plain = {k for k in arm if not _is_expr(k)}
        assert plain == {k for k in doc if k in plain} and len(plain) == len([k for k in doc if k in plain]), where
        for k in plain:
            _same_arm_yaml(arm[k], doc[k], f"{where}.{k}")
        for ka, kd in zip(sorted(set(arm) - plain), sorted(set(doc) - plain)):  # expression keys (identity ids)
            _same_literal(ka, kd, where)
            _same_arm_yaml(arm[ka], doc[kd], f"{where}.{kd}")
    elif isinstance(arm, list):
        assert isinstance(doc, list) and len(arm) == len(doc), where
        for n, (a, d) in enumerate(zip(arm, doc)):
            _same_arm_yaml(a, d, f"{where}[{n}]")
    else:
        assert arm == doc, (where, arm, doc)


def _same_arm_bicep(arm: Any, bicep: Any, where: str) -> None:
    """pycep's reading of the Bicep against the ARM template: same keys and list lengths, equal
    literals (expressions on either side are spelled differently and compared by shape only)."""
    if isinstance(arm, str) and arm.startswith("[") or isinstance(bicep, dict) and ("function" in bicep or "operator" in bicep):
        return
    if isinstance(arm, dict):
        assert isinstance(bicep, dict) and set(arm) == set(bicep), (where, sorted(set(arm) ^ set(bicep)))
        for k in arm:
            _same_arm_bicep(arm[k], bicep[k], f"{where}.{k}")
    elif isinstance(arm, list):
        assert isinstance(bicep, list) and len(arm) == len(bicep), where
        for n, (a, b) in enumerate(zip(arm, bicep)):
            _same_arm_bicep(a, b, f"{where}[{n}]")
    else:
        assert str(arm).lower() == str(bicep).lower(), (where, arm, bicep)


@pytest.mark.parametrize("patch", [{}, {"size": "l", "tier": "prod"}, {"images": {"registry": "contosoacr.azurecr.io"}}],
                         ids=["default", "l-prod", "private-registry"])
def test_aca_yaml_equals_the_deployed_container_app(patch: dict[str, Any]) -> None:
    from installer.validate.bicep import parse_bicep

    i = inp(plan(model="container", target="aca", **patch))
    bundle = render_aca(i)
    t = _template(bundle)
    bicep = parse_bicep(bundle.text("bicep/modules/compute.bicep"))["resources"]
    bicep_apps = {r["config"]["name"]: r["config"] for r in bicep.values() if r["type"] == "Microsoft.App/containerApps"}
    apps = {r["name"]: r for r in _of_type(t, "Microsoft.App/containerApps")}
    assert set(apps) == {a.name for a in azure_apps(i, "aca")} == set(bicep_apps)
    for name, res in apps.items():
        doc = yaml.safe_load(bundle.text(f"aca/{name}.yaml"))
        # `az containerapp update --yaml` would change nothing the template deployed:
        _same_arm_yaml(res["properties"], doc["properties"], name)
        _same_arm_yaml(res["identity"], doc["identity"], name)
        _same_arm_bicep(res["properties"], bicep_apps[name]["properties"], name)
        probes = {p["type"] for p in res["properties"]["template"]["containers"][0].get("probes", [])}
        assert probes in (set(), {"Startup", "Liveness", "Readiness"}), name
        assert res["properties"]["configuration"]["maxInactiveRevisions"] == doc["properties"]["configuration"]["maxInactiveRevisions"]


def test_replicas_follow_each_components_state_model() -> None:
    # A component with catalog max_replicas (state in the process or on local disk) never runs more
    # replicas than that on any target, whatever the size; a single-instance one has no scale rule.
    from installer.catalog import load_catalog

    cat = load_catalog()
    limited = {n: c.max_replicas for n, c in cat.components.items() if c.max_replicas is not None}
    assert limited.get("keycloak") == 1
    for size in ("s", "xl"):
        i = inp(plan(model="container", target="aca", size=size, tier="prod"))
        t = _template(render_aca(i))
        for res in _of_type(t, "Microsoft.App/containerApps"):
            name, scale = res["name"], res["properties"]["template"]["scale"]
            if name in limited:
                assert scale["minReplicas"] <= scale["maxReplicas"] <= limited[name], (size, name)
                if limited[name] == 1:
                    assert "rules" not in scale, name
        k8s = render_aks(inp(plan(model="container", target="aks", size=size, tier="prod")))
        for _, d in load_docs(k8s):
            name = d["metadata"]["name"]
            if name not in limited:
                continue
            if d["kind"] == "Deployment":
                assert d["spec"]["replicas"] <= limited[name], (size, name)
            if d["kind"] == "HorizontalPodAutoscaler":
                assert d["spec"]["maxReplicas"] <= limited[name], (size, name)


@pytest.mark.parametrize("drift", [
    lambda p: p["template"]["containers"][0]["probes"].pop(0),  # a startup probe only in one of them
    lambda p: p["configuration"].pop("maxInactiveRevisions"),
    lambda p: p["template"]["scale"].update(maxReplicas=9),
    lambda p: p["configuration"]["ingress"].update(external=True),
])
def test_the_comparison_catches_drift(drift: Any, aca: Any) -> None:
    import copy

    _, bundle = aca
    res = next(r for r in _of_type(_template(bundle), "Microsoft.App/containerApps") if r["name"] == "miso-controller")
    doc = yaml.safe_load(bundle.text("aca/miso-controller.yaml"))
    _same_arm_yaml(res["properties"], doc["properties"], "ok")
    broken = copy.deepcopy(doc["properties"])
    drift(broken)
    with pytest.raises(AssertionError):
        _same_arm_yaml(res["properties"], broken, "drift")


# ---------------------------------------------------------------- the manual runbook equals the template

def _commands(text: str) -> list[str]:
    """The runbook's shell commands, continuation lines joined."""
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    return [c.strip() for b in blocks for c in b.replace("\\\n", " ").splitlines() if c.strip() and not c.strip().startswith("#")]


def _flag(cmd: str, flag: str) -> str:
    m = re.search(rf"{flag} (\"[^\"]*\"|\S+)", cmd)
    assert m, (flag, cmd)
    return m.group(1).strip('"')


@pytest.mark.parametrize("patch", [{}, {"size": "l", "tier": "prod"}, {"azure": {"cloud": "usgov"}, "components": ["postgres", "keycloak", "flowise"]}],
                         ids=["default", "l-prod", "usgov"])
def test_runbook_commands_equal_the_template_value_by_value(patch: dict[str, Any]) -> None:
    from installer.render.aca import render_aca
    from installer.render.runbook import render_runbook

    base = {"model": "manual"}
    i = inp(plan(**{**base, **patch}))
    cmds = _commands(render_runbook(i).text("RUNBOOK.md"))
    t = _template(render_aca(inp(plan(**{**base, **patch, "model": "container", "target": "aca"}))))
    cloud = {"public": "AzureCloud", "usgov": "AzureUSGovernment", "china": "AzureChinaCloud"}[i.plan.azure.cloud.value]
    ev = ArmEval(t, cloud)

    def one(prefix: str) -> str:
        (cmd,) = [c for c in cmds if c.startswith(prefix)]
        return cmd

    storage = _of_type(t, "Microsoft.Storage/storageAccounts")[0]
    assert _flag(one("az storage account create"), "--sku") == storage["sku"]["name"]
    env = _of_type(t, "Microsoft.App/managedEnvironments")[0]["properties"]
    assert _flag(one("az containerapp env create"), "--internal-only") == str(env["vnetConfiguration"]["internal"]).lower()
    assert _flag(one("az containerapp env update"), "--public-network-access") == env["publicNetworkAccess"]
    kv = _of_type(t, "Microsoft.KeyVault/vaults")[0]["properties"]
    kv_cmd = one("az keyvault create")
    assert _flag(kv_cmd, "--retention-days") == str(ev.value(kv["softDeleteRetentionInDays"]))
    assert ("--enable-purge-protection true" in kv_cmd) is bool(ev.value(kv.get("enablePurgeProtection", False)))
    pg = _of_type(t, "Microsoft.DBforPostgreSQL/flexibleServers")
    if pg:
        pg_cmd = one("az postgres flexible-server create")
        props = pg[0]["properties"]
        assert _flag(pg_cmd, "--version") == props["version"]
        assert _flag(pg_cmd, "--sku-name") == ev.value(pg[0]["sku"]["name"])
        assert _flag(pg_cmd, "--tier") == ev.value(pg[0]["sku"]["tier"])
        assert _flag(pg_cmd, "--storage-size") == str(ev.value(props["storage"]["storageSizeGB"]))
        assert _flag(pg_cmd, "--high-availability") == ev.value(props["highAvailability"]["mode"])
        assert _flag(pg_cmd, "--backup-retention") == str(ev.value(props["backup"]["backupRetentionDays"]))
    redis = _of_type(t, "Microsoft.Cache/redisEnterprise")
    if redis:
        assert _flag(one("az redisenterprise create"), "--sku") == ev.value(redis[0]["sku"]["name"])
    # Private DNS zones: the runbook's are the template's, evaluated for this cloud.
    template_zones = {ev.value(z["name"]) for z in _of_type(t, "Microsoft.Network/privateDnsZones")}
    runbook_zones = {c.split()[-1] for c in cmds if c.startswith("pe ")}
    assert runbook_zones and runbook_zones <= template_zones
    # Front Door: one endpoint and one route per published app (no two routes on one endpoint with
    # the same pattern), values as the template's, and the WAF attached by a security policy.
    routes = [c for c in cmds if c.startswith("az afd route create")]
    t_routes = _of_type(t, "Microsoft.Cdn/profiles/afdEndpoints/routes")
    assert len(routes) == len(t_routes) > 0
    keys = [(_flag(c, "--endpoint-name"), _flag(c, "--patterns-to-match")) for c in routes]
    assert len(set(keys)) == len(keys)
    t_by_route = {str(ev.value(r["name"])).split("/")[-1]: r for r in t_routes}
    for cmd in routes:
        r = t_by_route[_flag(cmd, "--route-name")]
        assert str(ev.value(r["name"])).split("/")[1] == _flag(cmd, "--endpoint-name")
        assert _flag(cmd, "--forwarding-protocol") == r["properties"]["forwardingProtocol"]
        assert _flag(cmd, "--supported-protocols") == " ".join(r["properties"]["supportedProtocols"])
        assert _flag(cmd, "--patterns-to-match") == r["properties"]["patternsToMatch"][0]
        assert _flag(cmd, "--origin-group") == str(ev.value(r["properties"]["originGroup"]["id"])).split("/")[-1]
    waf = _of_type(t, "Microsoft.Network/FrontDoorWebApplicationFirewallPolicies")[0]
    assert _flag(one("az network front-door waf-policy create"), "--mode") == waf["properties"]["policySettings"]["mode"]
    assert _flag(one("az network front-door waf-policy create"), "-n") == waf["name"]
    policy = one("az afd security-policy create")
    assert policy.count("az afd endpoint show") == len(_of_type(t, "Microsoft.Cdn/profiles/afdEndpoints"))


def test_key_vault_protection_follows_the_tier_so_non_production_can_reinstall() -> None:
    # Deterministic vault names + purge protection would block a re-install for 90 days after a
    # rollback: production keeps it (recover the vault to re-install), other tiers can purge.
    from installer.render.foundation import render_foundation
    from installer.render import RenderInput
    from installer.plan import InstallPlan

    bundle = render_foundation(RenderInput(plan=InstallPlan(name="demo", model="container", target="aca")), "aca")
    t = _template(bundle)
    kv = _of_type(t, "Microsoft.KeyVault/vaults")[0]["properties"]
    assert kv["enableSoftDelete"] is True
    for tier, (purge, days) in {"prod": (True, 90), "test": (None, 7), "dev": (None, 7), "evaluation": (None, 7)}.items():
        params = dict(re.findall(r"^param (\w+) = (.+)$", bundle.text(f"bicep/params/{tier}.bicepparam"), flags=re.M))
        ev = ArmEval({**t, "parameters": {**t["parameters"],
                                          "keyVaultPurgeProtection": {"defaultValue": params["keyVaultPurgeProtection"] == "true"},
                                          "keyVaultSoftDeleteDays": {"defaultValue": int(params["keyVaultSoftDeleteDays"])}}}, "AzureCloud")
        assert ev.value(kv["enablePurgeProtection"]) is purge, tier  # never false: the API refuses it
        assert ev.value(kv["softDeleteRetentionInDays"]) == days, tier


def test_model_endpoints_are_the_only_egress_model_clients_get_on_aks() -> None:
    hosts = ["contoso-ai.openai.azure.com", "*.services.ai.azure.com"]
    i = inp(plan(model="container", target="aks", azure={**plan(model="container").azure.model_dump(), "model_endpoints": hosts}))
    bundle = render_aks(i)
    docs = load_docs(bundle)
    policies = {d["metadata"]["name"]: d for _, d in docs if d["kind"] == "CiliumNetworkPolicy"}
    clients = {a.name for a in azure_apps(i, "aks") if a.model_client}
    assert clients == {"flowise", "openwebui"}
    assert set(policies) == {f"{c}-model-egress" for c in clients}
    for pol in policies.values():
        fqdn_rules = [r for r in pol["spec"]["egress"] if "toFQDNs" in r]
        (rule,) = fqdn_rules
        assert {f.get("matchName") or f.get("matchPattern") for f in rule["toFQDNs"]} == set(hosts)
        assert rule["toPorts"] == [{"ports": [{"port": "443", "protocol": "TCP"}]}]
    # The default deny stays; the cluster can enforce host names (ACNS FQDN filtering).
    assert any(d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "default-deny" for _, d in docs)
    net = _of_type(_template(bundle), "Microsoft.ContainerService/managedClusters")[0]["properties"]["networkProfile"]
    assert net["advancedNetworking"]["security"] == {"enabled": True, "advancedNetworkPolicies": "FQDN"}
    assert custom_findings(docs, i) == []
    # Without endpoints: no allowlist and no paid add-on.
    plain = render_aks(inp(plan(model="container", target="aks")))
    assert not [d for _, d in load_docs(plain) if d["kind"] == "CiliumNetworkPolicy"]
    assert "advancedNetworking" not in _of_type(_template(plain), "Microsoft.ContainerService/managedClusters")[0]["properties"]["networkProfile"]
    # A host outside the answers is refused by the validator.
    for _, d in docs:
        if d["kind"] == "CiliumNetworkPolicy":
            d["spec"]["egress"][1]["toFQDNs"].append({"matchName": "evil.example.com"})
    assert any("not in azure.model_endpoints" in f.message for f in custom_findings(docs, i))


@pytest.mark.parametrize("cloud,vault,pg,zone", [
    ("usgov", ".vault.usgovcloudapi.net", ".postgres.database.usgovcloudapi.net", "privatelink.vaultcore.usgovcloudapi.net"),
    ("china", ".vault.azure.cn", ".postgres.database.chinacloudapi.cn", "privatelink.vaultcore.azure.cn"),
])
def test_sovereign_cloud_files_agree_with_each_other(cloud: str, vault: str, pg: str, zone: str) -> None:
    # The ACA YAML's Key Vault URLs, the apps' Postgres host, the AKS secret provider's cloud and
    # the runbook's private DNS zones all name the same cloud as the template's zones evaluate to.
    from installer.render.runbook import render_runbook

    azure = {**plan(model="container").azure.model_dump(), "cloud": cloud}
    aca_bundle = render_aca(inp(plan(model="container", target="aca", azure=azure)))
    miso = yaml.safe_load(aca_bundle.text("aca/miso-controller.yaml"))["properties"]
    assert all(vault + "/secrets/" in s["keyVaultUrl"] for s in miso["configuration"]["secrets"])
    flowise = yaml.safe_load(aca_bundle.text("aca/flowise.yaml"))["properties"]
    env = {e["name"]: e.get("value") for e in flowise["template"]["containers"][0]["env"]}
    pg_values = [v for v in env.values() if v and ".postgres.database." in v]
    assert pg_values and all(pg in v for v in pg_values), pg_values
    arm_cloud = {"usgov": "AzureUSGovernment", "china": "AzureChinaCloud"}[cloud]
    zones = {ArmEval(_template(aca_bundle), arm_cloud).value(z["name"]) for z in _of_type(_template(aca_bundle), "Microsoft.Network/privateDnsZones")}
    assert zone in zones
    runbook = render_runbook(inp(plan(model="manual", azure=azure))).text("RUNBOOK.md")
    assert zone in runbook and "privatelink.vaultcore.azure.net" not in runbook
    aks_bundle = render_aks(inp(plan(model="container", target="aks", azure=azure)))
    spc = [d for _, d in load_docs(aks_bundle) if d["kind"] == "SecretProviderClass"]
    assert spc and {d["spec"]["parameters"]["cloudName"] for d in spc} == {
        {"usgov": "AzureUSGovernmentCloud", "china": "AzureChinaCloud"}[cloud]}
