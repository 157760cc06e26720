"""Template → operations for the deploying fake ARM: parameters (required, unknown, allowed,
min/max, secure ones never shown back), resources (copy loops, conditions, extension scopes),
``dependsOn`` (ids or names; undefined ones and cycles rejected like ARM), a schedule in simulated
time along the dependencies, ``reference()`` allowed only along them, the read-only properties a
provider fills in (what ``reference()`` returns), and injected failures.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from tests.azure import arm_errors
from tests.azure.arm_eval import Scope, TemplateError, evaluate, is_expression
from tests.azure.fake_arm_state import ArmRuleError, Deployment, Group, Op, Resource, _child_id, _merge, _relative_to_id


class TemplateMixin:
    """Part of ``DeployPlane``."""

    def _build(self, g: Group, name: str, body: dict[str, Any], *, dry_run: bool = False, stack: str | None = None) -> Deployment:
        props = body.get("properties") or {}
        if stack is None and props.get("mode") not in ("Incremental", "Complete"):
            raise ArmRuleError(400, "InvalidDeploymentMode", "The deployment mode is required: 'Incremental' or 'Complete'.")
        template = props.get("template")
        if props.get("templateLink") or props.get("parametersLink"):
            raise ArmRuleError(400, "InvalidContentLink", "The fake ARM cannot download linked templates: submit 'template' and 'parameters' inline.")
        if not isinstance(template, dict):
            raise ArmRuleError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: 'properties.template' is required.")
        if not isinstance(template.get("resources"), list):
            raise TemplateError("The template must contain a 'resources' array.")
        params = self._parameters(template, props.get("parameters") or {})
        scope = Scope(
            subscription_id=self.sub,
            resource_group=g.name,
            location=g.location,
            parameters=params,
            variables=template.get("variables") or {},
            deployment_name=name,
            tenant_id=self.sc.get("tenant_id", ""),
        )
        declared = template.get("parameters") or {}
        for pname, value in list(params.items()):
            if isinstance(value, _LazyDefault):
                params[pname] = evaluate(str(value), scope)
                _check_value(pname, declared[pname], params[pname])
        rg_prefix = f"/subscriptions/{self.sub}/resourceGroups/{g.name}"
        raw: list[tuple[dict[str, Any], int | None]] = []
        for r in template["resources"]:
            if not isinstance(r, dict):
                raise TemplateError("Each resource of the template must be an object (languageVersion 1.0).")
            if "copy" in r:
                count = int(evaluate(r["copy"].get("count"), scope))
                raw.extend((r, i) for i in range(count))
            else:
                raw.append((r, None))
        entries: list[dict[str, Any]] = []
        for r, index in raw:
            scope.copy_index = index
            if "condition" in r and not evaluate(r["condition"], scope):
                continue
            rtype = str(r["type"])
            rname = str(evaluate(r["name"], scope))
            scope_expr = r.get("scope")
            if scope_expr:
                base = str(evaluate(scope_expr, scope))
                if not base.startswith("/"):
                    base = _relative_to_id(rg_prefix, base)
                rid = _child_id(base, rtype, rname)
                extension = True
            else:
                rid = _child_id(rg_prefix, rtype, rname)
                extension = rtype.lower() == "microsoft.authorization/roleassignments"
            entries.append({"raw": r, "index": index, "type": rtype, "name": rname, "id": rid, "extension": extension})
        scope.copy_index = None
        by_id = {e["id"].lower(): i for i, e in enumerate(entries)}
        # dependsOn: resource ids or names, as ARM accepts them
        for e in entries:
            scope.copy_index = e["index"]
            deps = []
            for dep in e["raw"].get("dependsOn") or []:
                value = str(evaluate(dep, scope))
                idx = _find_dep(entries, by_id, value, rg_prefix)
                if idx is None:
                    raise TemplateError(f"The resource '{value}' is not defined in the template. Please see https://aka.ms/arm-syntax for usage details.")
                deps.append(idx)
            e["deps"] = deps
        scope.copy_index = None
        order = _topological(entries)
        pre = {r.id.lower() for r in self.resources.values()}
        now = self.clock.now()
        start0 = now + 1.0
        synthesized: dict[str, Resource] = {}
        ops: list[Op | None] = [None] * len(entries)
        dep_closure: dict[int, set[int]] = {}
        for i in order:
            e = entries[i]
            closure: set[int] = set()
            for j in e["deps"]:
                closure |= {j} | dep_closure[j]
            dep_closure[i] = closure
            allowed = {entries[j]["id"].lower() for j in closure}
            failure: arm_errors.ProviderError | None = None

            def reference(rid: str, _allowed: set[str] = allowed, _name: str = e["name"]) -> dict[str, Any]:
                key = rid.lower() if rid.startswith("/") else _relative_to_id(rg_prefix, rid).lower()
                if key in by_id and key not in _allowed:
                    raise _RefError(f"The resource '{rid}' is not defined or not yet deployed: '{_name}' references it without depending on it (add it to dependsOn).")
                res = synthesized.get(key) or self.resources.get(key)
                if res is None:
                    raise _RefError(f"The Resource '{rid}' under resource group '{g.name}' was not found.")
                return res.json()

            scope.reference = reference
            scope.list_keys = lambda rid: _keys(rid)
            scope.copy_index = e["index"]
            r = e["raw"]
            try:
                location = evaluate(r.get("location"), scope)
                tags = evaluate(r.get("tags") or {}, scope)
                properties = evaluate(r.get("properties") or {}, scope)
                sku = evaluate(r.get("sku"), scope) if "sku" in r else None
                kind = evaluate(r.get("kind"), scope) if "kind" in r else None
                identity = evaluate(r.get("identity"), scope) if "identity" in r else None
            except (_RefError, TemplateError) as err:
                # ARM evaluates reference() when the resource is deployed: a bad one fails that
                # operation, not the submission; validate and what-if show such values unevaluated.
                location = evaluate(r.get("location"), scope) if not _mentions_reference(r.get("location")) else g.location
                tags = r.get("tags") if dry_run else {}
                properties, sku, kind, identity = (r.get("properties") or {}) if dry_run else {}, r.get("sku"), r.get("kind"), r.get("identity")
                if not dry_run:
                    code = "ResourceNotFound" if isinstance(err, _RefError) else "InvalidTemplate"
                    failure = arm_errors.ProviderError(404 if code == "ResourceNotFound" else 400, "NotFound" if code == "ResourceNotFound" else "BadRequest", code, str(err))
            if not isinstance(tags, dict):
                tags = {}
            res = Resource(e["id"], e["name"], e["type"], location, tags, _synthesize(e["type"], e["name"], e["id"], location or g.location, properties), kind, sku, identity, e["extension"])
            synthesized[e["id"].lower()] = res
            start = max([start0] + [ops[j].end for j in e["deps"] if ops[j] is not None])  # type: ignore[union-attr]
            duration = self.durations.get(e["type"].lower(), self.default_duration)
            op = Op(
                operation_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{rg_prefix}/{name}/{now}/{e['id']}").hex[:16].upper(),
                resource=res,
                symbolic=f"{e['type'].split('/')[-1]}[{e['name']}]",
                depends=e["deps"],
                api_version=str(r.get("apiVersion", "")),
                start=start,
                end=start + duration,
                is_nested_deployment=e["type"].lower() == "microsoft.resources/deployments",
                declared=properties if isinstance(properties, dict) else {},
            )
            if failure is None and not dry_run:
                for inj in self.injected:
                    if inj.matches(e["type"], e["name"]):
                        inj.hits += 1
                        failure = arm_errors.provider_error(inj.kind, name=e["name"], rtype=e["type"], location=location or g.location, subscription=self.sub)
                        op.end = start + duration * inj.at_fraction
                        break
                for rule in self.op_rules if failure is None else []:
                    failure = rule(e["type"], e["id"], properties if isinstance(properties, dict) else {})
                    if failure is not None:
                        op.end = start + 2.0
                        break
                if failure is None and e["type"].lower() == "microsoft.keyvault/vaults":
                    failure = _vault_rules(properties) or self._soft_deleted_conflict(e["name"], location or g.location, properties)
                    if failure is not None:
                        op.end = start + 2.0
            elif failure is not None:
                op.end = start + 1.0
            op.error = failure
            if any(ops[j] is not None and (ops[j].error or ops[j].skipped) for j in e["deps"]):  # type: ignore[union-attr]
                op.skipped = True
            ops[i] = op
        scope.copy_index = None
        d = Deployment(
            name=name,
            group=g.name.lower(),
            mode=props.get("mode", "Incremental"),
            template=template,
            parameters_shown=_shown_parameters(template, params),
            submitted=now,
            ops=[op for op in ops if op is not None],
            outputs_raw=template.get("outputs") or {},
            scope=scope,
            tags=dict(body.get("tags") or {}),
            correlation_id=str(uuid.uuid4()),
            stack=stack,
        )
        d._pre = pre  # type: ignore[attr-defined]
        scope.reference = lambda rid: (self.resources.get(rid.lower()) or synthesized[rid.lower()]).json()
        return d

    def _soft_deleted_conflict(self, name: str, location: str, properties: Any) -> arm_errors.ProviderError | None:
        """A vault name held by a soft-deleted vault cannot be reused (unless recovering it)."""
        if isinstance(properties, dict) and str(properties.get("createMode", "")).lower() == "recover":
            return None
        for v in self.deleted_vaults:
            if v["name"].lower() == name.lower():
                return arm_errors.ProviderError(
                    409,
                    "Conflict",
                    "ConflictError",
                    "A vault with the same name already exists in deleted state. You need to either recover or purge existing key vault. "
                    "Follow this link https://go.microsoft.com/fwlink/?linkid=2149745 for more information on soft delete.",
                )
        return None

    def _parameters(self, template: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
        declared = template.get("parameters") or {}
        unknown = [k for k in given if k.lower() not in {d.lower() for d in declared}]
        if unknown:
            raise TemplateError(
                f"The template parameters '{', '.join(unknown)}' in the parameters file are not valid; they are not present in the original template and can therefore not be provided at deployment time. "
                f"The only supported parameters for this template are '{', '.join(declared)}'. Please see https://aka.ms/arm-pass-parameter-values for usage details."
            )
        values: dict[str, Any] = {}
        lookup = {k.lower(): v for k, v in given.items()}
        pending_defaults: list[tuple[str, Any]] = []
        for pname, spec in declared.items():
            supplied = lookup.get(pname.lower())
            if supplied is not None:
                if not isinstance(supplied, dict) or not ({"value", "reference"} & set(supplied)):
                    raise TemplateError(f"The value of deployment parameter '{pname}' is null or not in the form {{\"value\": ...}}. Please see https://aka.ms/arm-pass-parameter-values for usage details.")
                if "reference" in supplied:
                    values[pname] = self._keyvault_reference(pname, supplied["reference"])
                else:
                    values[pname] = supplied["value"]
            elif "defaultValue" in spec:
                pending_defaults.append((pname, spec["defaultValue"]))
            else:
                raise TemplateError(f"The value for the template parameter '{pname}' at line '1' and column '1' is not provided. Please see https://aka.ms/arm-create-parameter-file for usage details.")
        return _with_defaults(values, pending_defaults, declared)

    def _keyvault_reference(self, pname: str, ref: dict[str, Any]) -> str:
        vault = str((ref.get("keyVault") or {}).get("id", ""))
        if vault.lower() not in self.resources:
            raise ArmRuleError(400, "KeyVaultParameterReferenceNotFound", f"The specified KeyVault '{vault}' could not be found (parameter '{pname}').")
        return f"fake-secret:{ref.get('secretName')}"


def _vault_rules(properties: Any) -> arm_errors.ProviderError | None:
    """What Key Vault's provider refuses (azure-mgmt-keyvault 14.1 ``VaultProperties`` docs: purge
    protection cannot be turned off once on, so ``false`` is rejected — omit it or send null;
    soft-delete retention is 7-90 days)."""
    if not isinstance(properties, dict):
        return None
    if properties.get("enablePurgeProtection") is False:
        return arm_errors.ProviderError(
            400,
            "BadRequest",
            "BadRequest",
            'The property "enablePurgeProtection" cannot be set to false. Enabling the purge protection for a vault is an irreversible action.',
        )
    days = properties.get("softDeleteRetentionInDays")
    if days is not None and not (isinstance(days, int) and 7 <= days <= 90):
        return arm_errors.ProviderError(400, "BadRequest", "BadRequest", f"The property softDeleteRetentionInDays must be between 7 and 90 (was {days!r}).")
    return None


class _RefError(Exception):
    pass


def _mentions_reference(value: Any) -> bool:
    return "reference(" in str(value) or "list" in str(value).lower() and "keys(" in str(value).lower()


def _find_dep(entries: list[dict[str, Any]], by_id: dict[str, int], value: str, rg_prefix: str) -> int | None:
    if value.lower() in by_id:
        return by_id[value.lower()]
    if value.startswith("/"):
        return None
    if "/" in value and "." in value.split("/")[0]:
        rid = _relative_to_id(rg_prefix, value).lower()
        return by_id.get(rid)
    matches = [i for i, e in enumerate(entries) if e["name"].lower() == value.lower()]
    return matches[0] if len(matches) == 1 else None


def _topological(entries: list[dict[str, Any]]) -> list[int]:
    state: dict[int, int] = {}
    order: list[int] = []

    def visit(i: int, path: list[int]) -> None:
        if state.get(i) == 2:
            return
        if state.get(i) == 1:
            cycle = " -> ".join(entries[j]["name"] for j in path[path.index(i) :] + [i])
            raise TemplateError(f"Circular dependency detected on resource: '{entries[i]['id']}'. Please see https://aka.ms/arm-syntax-resources for usage details. ({cycle})")
        state[i] = 1
        for j in entries[i]["deps"]:
            visit(j, path + [i])
        state[i] = 2
        order.append(i)

    for i in range(len(entries)):
        visit(i, [])
    return order


def _with_defaults(values: dict[str, Any], pending: list[tuple[str, Any]], declared: dict[str, Any]) -> dict[str, Any]:
    # Expression defaults (``[resourceGroup().location]``) wait for the deployment's scope (_build).
    for pname, default in pending:
        values[pname] = _LazyDefault(default) if is_expression(default) else default
    for pname, spec in declared.items():
        _check_value(pname, spec, values.get(pname))
    return values


class _LazyDefault(str):
    """A default like ``[resourceGroup().location]``, resolved when the deployment's scope is known."""


def _check_value(pname: str, spec: dict[str, Any], value: Any) -> None:
    if isinstance(value, _LazyDefault):
        return
    ptype = str(spec.get("type", "string")).lower()
    expected = {"string": str, "securestring": str, "int": int, "bool": bool, "array": list, "object": dict, "secureobject": dict}.get(ptype)
    if expected is not None and not (isinstance(value, expected) and not (expected is int and isinstance(value, bool))):
        names = {str: "String", int: "Integer", bool: "Boolean", list: "Array", dict: "Object", type(None): "Null"}
        actual = names.get(type(value), type(value).__name__)
        raise TemplateError(f"Template parameter JToken type is not valid. Expected '{names[expected]}'. Actual '{actual}'. Please see https://aka.ms/arm-create-parameter-file for usage details. (parameter '{pname}')")
    allowed = spec.get("allowedValues")
    if allowed is not None and value not in allowed:
        raise TemplateError(f"The provided value for the template parameter '{pname}' is not valid. The value '{value}' is not part of the allowed value(s): '{','.join(map(str, allowed))}'.")
    if isinstance(value, int) and not isinstance(value, bool):
        if "minValue" in spec and value < spec["minValue"]:
            raise TemplateError(f"The provided value for the template parameter '{pname}' is not valid. The value '{value}' is less than the minimum value '{spec['minValue']}'.")
        if "maxValue" in spec and value > spec["maxValue"]:
            raise TemplateError(f"The provided value for the template parameter '{pname}' is not valid. The value '{value}' is greater than the maximum value '{spec['maxValue']}'.")
    if isinstance(value, (str, list)):
        if "minLength" in spec and len(value) < spec["minLength"]:
            raise TemplateError(f"The provided value for the template parameter '{pname}' is not valid. Length of the value should be greater than or equal to '{spec['minLength']}'.")
        if "maxLength" in spec and len(value) > spec["maxLength"]:
            raise TemplateError(f"The provided value for the template parameter '{pname}' is not valid. Length of the value should be less than or equal to '{spec['maxLength']}'.")


def _shown_parameters(template: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """What GET shows: secure values never come back (ARM shows only their type)."""
    out = {}
    for pname, spec in (template.get("parameters") or {}).items():
        ptype = str(spec.get("type", "String"))
        if ptype.lower().startswith("secure"):
            out[pname] = {"type": "SecureString" if ptype.lower() == "securestring" else "SecureObject"}
        else:
            value = params.get(pname)
            out[pname] = {"type": ptype[:1].upper() + ptype[1:], "value": None if isinstance(value, _LazyDefault) else value}
    return out


def _providers(d: Deployment) -> list[dict[str, Any]]:
    seen: dict[str, set[str]] = {}
    for op in d.ops:
        ns, *rest = op.resource.type.split("/")
        seen.setdefault(ns, set()).add("/".join(rest))
    return [{"namespace": ns, "resourceTypes": [{"resourceType": t, "locations": []} for t in sorted(ts)]} for ns, ts in sorted(seen.items())]


def _guidish(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def _synthesize(rtype: str, name: str, rid: str, location: str, properties: dict[str, Any]) -> dict[str, Any]:
    """Read-only properties the resource provider fills in (what ``reference()`` returns)."""
    short = name.rsplit("/", 1)[-1]
    t = rtype.lower()
    extra: dict[str, Any] = {"provisioningState": "Succeeded"}
    if t == "microsoft.keyvault/vaults":
        extra["vaultUri"] = f"https://{short}.vault.azure.net/"
    elif t == "microsoft.containerregistry/registries":
        extra["loginServer"] = f"{short.lower()}.azurecr.io"
    elif t == "microsoft.dbforpostgresql/flexibleservers":
        extra["fullyQualifiedDomainName"] = f"{short}.postgres.database.azure.com"
    elif t == "microsoft.cache/redisenterprise":
        extra["hostName"] = f"{short}.{location}.redis.azure.net"
    elif t == "microsoft.managedidentity/userassignedidentities":
        extra.update({"clientId": _guidish(rid, "client"), "principalId": _guidish(rid, "principal"), "tenantId": _guidish("tenant")})
    elif t == "microsoft.app/managedenvironments":
        extra.update({"defaultDomain": f"{_guidish(rid)[:8]}.{location}.azurecontainerapps.io", "staticIp": "10.40.4.10"})
    elif t == "microsoft.app/containerapps":
        ingress = ((properties.get("configuration") or {}).get("ingress")) or {}
        if ingress:
            extra["configuration"] = {"ingress": {"fqdn": f"{short}.internal.{location}.azurecontainerapps.io" if not ingress.get("external", False) else f"{short}.{location}.azurecontainerapps.io"}}
        extra["latestRevisionName"] = f"{short}--0000001"
    elif t == "microsoft.containerservice/managedclusters":
        extra.update(
            {
                "fqdn": f"{short}-dns.hcp.{location}.azmk8s.io",
                "privateFQDN": f"{short}-dns.privatelink.{location}.azmk8s.io",
                "identityProfile": {"kubeletidentity": {"objectId": _guidish(rid, "kubelet-object"), "clientId": _guidish(rid, "kubelet-client"), "resourceId": f"{rid}-agentpool"}},
                "oidcIssuerProfile": {"enabled": True, "issuerURL": f"https://{location}.oic.prod-aks.azure.com/{_guidish('tenant')}/{_guidish(rid, 'oidc')}/"},
            }
        )
    elif t == "microsoft.cdn/profiles/afdendpoints":
        extra["hostName"] = f"{short}-{_guidish(rid)[:8]}.z01.azurefd.net"
    elif t == "microsoft.storage/storageaccounts":
        extra["primaryEndpoints"] = {"blob": f"https://{short}.blob.core.windows.net/", "file": f"https://{short}.file.core.windows.net/"}
    elif t == "microsoft.operationalinsights/workspaces":
        extra["customerId"] = _guidish(rid, "customer")
    elif t == "microsoft.insights/components":
        extra.update({"InstrumentationKey": _guidish(rid, "ikey"), "ConnectionString": f"InstrumentationKey={_guidish(rid, 'ikey')}"})
    return _merge(properties, extra)


def _keys(rid: str) -> dict[str, Any]:
    token = base64.b64encode(uuid.uuid5(uuid.NAMESPACE_URL, rid).bytes * 2).decode()
    if "redisenterprise" in rid.lower():
        return {"primaryKey": token, "secondaryKey": token[::-1]}
    return {"keys": [{"keyName": "key1", "value": token, "permissions": "FULL"}, {"keyName": "key2", "value": token[::-1], "permissions": "FULL"}]}

