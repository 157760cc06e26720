"""Azure Marketplace (Azure Application): the foundation on Container Apps, packaged for Partner Center.

Bundle:

- ``bicep/**`` and ``arm/mainTemplate.json``: the foundation (``render_foundation`` layout) with
  ``unique`` naming: names come from a ``namePrefix`` parameter plus a suffix of
  ``uniqueString(resourceGroup().id)``, since every customer deploys the same offer;
- ``arm/createUiDefinition.json``: the portal form (basics: name prefix; security: the Postgres
  administrator password; generated platform secrets come from ``guid()`` in the outputs, so no
  secret is in any file);
- ``marketplace/app.zip``: ``createUiDefinition.json`` and ``mainTemplate.json`` at the zip root,
  the layout Partner Center expects; deterministic (fixed timestamps, sorted entries).

The template is flat (no ``Microsoft.Resources/deployments``), so Partner Center can inject the
customer usage attribution id itself.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from installer.render import RenderInput
from installer.render.azure.arm import dumps
from installer.render.azure.build import secret_params
from installer.render.azure.model import Foundation
from installer.render.bundle import Bundle
from installer.render.foundation import add_foundation, foundation_model
from installer.render.postdeploy import add_postdeploy

UI_SCHEMA = "https://schema.management.azure.com/schemas/0.1.2-preview/CreateUIDefinition.MultiVm.json#"
PACKAGE_PATH = "marketplace/app.zip"
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)

# Azure Database for PostgreSQL password rules: 3 of 4 character classes; we require all four, 16+.
PASSWORD_REGEX = r"^(?=.*[a-z])(?=.*[A-Z])(?=.*\d)(?=.*[^A-Za-z\d])[\x21-\x7e]{16,128}$"
# A generated secret: two random GUIDs without dashes (64 hex characters, ~244 random bits).
GENERATED = "[concat(replace(guid(), '-', ''), replace(guid(), '-', ''))]"


def create_ui_definition(f: Foundation, inp: RenderInput) -> dict[str, Any]:
    basics = [{
        "name": "namePrefix",
        "type": "Microsoft.Common.TextBox",
        "label": "Resource name prefix",
        "defaultValue": f.params["namePrefix"].default,
        "toolTip": "2-8 lowercase letters and digits; every resource name starts with it.",
        "constraints": {
            "required": True,
            "regex": "^[a-z][a-z0-9]{1,7}$",
            "validationMessage": "Use 2-8 lowercase letters and digits, starting with a letter.",
        },
    }]
    security = [{
        "name": "postgresPassword",
        "type": "Microsoft.Common.PasswordBox",
        "label": {"password": "PostgreSQL administrator password", "confirmPassword": "Confirm password"},
        "toolTip": "Password of the PostgreSQL administrator (pgadmin); stored in the platform's Key Vault.",
        "constraints": {
            "required": True,
            "regex": PASSWORD_REGEX,
            "validationMessage": "16-128 characters with upper case, lower case, a digit and a symbol.",
        },
        "options": {"hideConfirmation": False},
    }, {
        "name": "generatedInfo",
        "type": "Microsoft.Common.InfoBox",
        "options": {
            "icon": "Info",
            "text": "The platform's other credentials are generated at deployment and kept only in Key Vault.",
        },
    }]
    steps = [{"name": "security", "label": "Security", "elements": security}]
    outputs: dict[str, Any] = {"location": "[location()]", "namePrefix": "[basics('namePrefix')]"}
    if "publicDomain" in f.params:
        steps.append({"name": "network", "label": "Network", "elements": [{
            "name": "publicDomain",
            "type": "Microsoft.Common.TextBox",
            "label": "Public DNS domain",
            "toolTip": "Domain Front Door serves the platform under (apps get sub-domains such as auth.<domain>).",
            "constraints": {
                "required": True,
                "regex": r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
                "validationMessage": "Enter a DNS domain such as ai.contoso.com.",
            },
        }]})
        outputs["publicDomain"] = "[steps('network').publicDomain]"
    for sp in secret_params(inp, f.compute):  # type: ignore[arg-type]
        outputs[sp.param] = "[steps('security').postgresPassword]" if sp.secret == "postgres_password" else GENERATED
    return {
        "$schema": UI_SCHEMA,
        "handler": "Microsoft.Azure.CreateUIDef",
        "version": "0.1.2-preview",
        "parameters": {"basics": basics, "steps": steps, "outputs": outputs},
    }


def package_zip(files: dict[str, bytes]) -> bytes:
    """Partner Center package: files at the zip root, sorted, fixed timestamps → same bytes every time."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            zf.writestr(info, files[name])
    return buf.getvalue()


def render_marketplace(inp: RenderInput) -> Bundle:
    f = foundation_model(inp, "aca", naming="unique")
    bundle = Bundle()
    add_foundation(bundle, f, inp, inp.catalog.platform.version)
    ui = dumps(create_ui_definition(f, inp))
    bundle.add("arm/createUiDefinition.json", ui)
    bundle.add(PACKAGE_PATH, package_zip({
        "createUiDefinition.json": ui.encode("utf-8"),
        "mainTemplate.json": bundle.files["arm/mainTemplate.json"],
    }))
    # Not in the Partner Center package: the publisher (or the customer) runs it from inside the VNet.
    add_postdeploy(bundle, inp, unique_names=True)
    return bundle


