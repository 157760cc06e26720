"""A stub ``az`` executable for tests: the real ``AzureCliCredential`` runs it like the Azure CLI.

It answers ``az account get-access-token`` with a JWT-shaped token whose claims name the
signed-in principal (unsigned: the fake ARM does not verify it, and neither does fabrix), and
appends each call to ``calls.log`` beside itself so tests can count sign-ins.
"""

from __future__ import annotations

import base64
import json
import stat
import sys

from pathlib import Path
from typing import Any


def make_jwt(claims: dict[str, Any]) -> str:
    def b64(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}.c2lnbmF0dXJl"


def user_claims(oid: str, tenant: str, upn: str = "consultant@contoso.example") -> dict[str, Any]:
    return {"aud": "https://management.core.windows.net/", "oid": oid, "tid": tenant, "idtyp": "user", "upn": upn, "scp": "user_impersonation"}


def app_claims(oid: str, tenant: str, app_id: str = "0f0f0f0f-1111-2222-3333-444444444444") -> dict[str, Any]:
    return {"aud": "https://management.core.windows.net/", "oid": oid, "tid": tenant, "idtyp": "app", "appid": app_id}


_SCRIPT = '''#!{python}
import json, sys, time
from pathlib import Path
here = Path(__file__).resolve().parent
with open(here / "calls.log", "a") as fh:
    fh.write(" ".join(sys.argv[1:]) + "\\n")
state = json.loads((here / "az-state.json").read_text())
if state.get("offline"):
    # What az prints when it must refresh its token and the network is down: its "ERROR: "
    # prefix and the requests/urllib3 connection error text.
    sys.stderr.write("ERROR: HTTPSConnectionPool(host='login.microsoftonline.com', port=443): Max retries exceeded "
                     "with url: /organizations/oauth2/v2.0/token (Caused by NewConnectionError('<urllib3.connection."
                     "HTTPSConnection object at 0x7f00>: Failed to establish a new connection: [Errno -3] "
                     "Temporary failure in name resolution'))\\n")
    sys.exit(1)
if not state["logged_in"]:
    sys.stderr.write("ERROR: Please run 'az login' to setup account.\\n")
    sys.exit(1)
if sys.argv[1:3] == ["account", "get-access-token"]:
    expires = int(time.time()) + 3600
    print(json.dumps({{
        "accessToken": state["token"],
        "expiresOn": time.strftime("%Y-%m-%d %H:%M:%S.000000", time.localtime(expires)),
        "expires_on": expires,
        "subscription": state.get("subscription", ""),
        "tenant": state["tenant"],
        "tokenType": "Bearer",
    }}))
    sys.exit(0)
sys.stderr.write("stub az: unsupported command " + " ".join(sys.argv[1:]) + "\\n")
sys.exit(2)
'''


class StubAz:
    def __init__(self, folder: Path, claims: dict[str, Any], logged_in: bool = True) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "az"
        self.path.write_text(_SCRIPT.format(python=sys.executable))
        self.path.chmod(self.path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        self.set(claims, logged_in)

    def set(self, claims: dict[str, Any], logged_in: bool = True, offline: bool = False) -> None:
        """``offline``: az is signed in but cannot refresh its token (the network is down)."""
        state = {"token": make_jwt(claims), "tenant": claims.get("tid", ""), "logged_in": logged_in, "offline": offline}
        (self.folder / "az-state.json").write_text(json.dumps(state))

    def calls(self) -> list[str]:
        log = self.folder / "calls.log"
        return log.read_text().splitlines() if log.exists() else []


