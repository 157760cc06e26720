"""Why sign-in failed, said once, with the one fix that applies.

``sign_in`` tries up to three ways (Azure CLI, a service principal from the environment, a device
code). Listing what each said and then every way to sign in made the advice circular ("use
device-code sign-in" right after the device code failed because the network was down). Here each
attempt is sorted into an outcome, and the most telling outcome decides the cause and the fix:

1. a way could not reach the sign-in service → the network is the cause (every way needs it);
2. signed in, but to another tenant → sign in to the plan's tenant;
3. a service principal in ``AZURE_*`` that is incomplete or was refused → fix that principal
   (someone set it on purpose);
4. the device code expired or was declined → sign in again with a new code;
5. the Azure CLI is installed but not signed in (or its token call failed) → ``az login``;
6. nothing to sign in with → install the Azure CLI, or set a service principal, or (where the
   wizard can show one) a device code.

The messages azure-identity gives are its own constants: ``_credentials/azure_cli.py``
(``CLI_NOT_FOUND``, ``NOT_LOGGED_IN``), ``_credentials/environment.py`` ("Environment variables
are not fully configured"), ``_credentials/device_code.py`` ("Timed out waiting for user to
authenticate"); MSAL's device-flow errors ``authorization_declined`` / ``expired_token`` (RFC 8628 §3.5).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from enum import StrEnum

# Service-principal variables EnvironmentCredential reads (azure-identity ``EnvironmentVariables``).
SP_SECRET_VARS = ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID")
SP_CERT_VARS = ("AZURE_CLIENT_ID", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_TENANT_ID")
SP_USER_VARS = ("AZURE_CLIENT_ID", "AZURE_USERNAME", "AZURE_PASSWORD")
SP_ANY_VARS = ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME", "AZURE_PASSWORD")

INSTALL_AZ = "https://learn.microsoft.com/cli/azure/install-azure-cli"

# What requests/urllib3/MSAL and the Azure CLI say when no connection could be made.
_NETWORK = re.compile(
    r"failed to resolve|name or service not known|temporary failure in name resolution|nodename nor servname"
    r"|getaddrinfo|failed to establish a new connection|connection refused|connection reset|connection aborted"
    r"|network is unreachable|no route to host|unable to connect to proxy|proxyerror|max retries exceeded"
    r"|connecttimeout|read timed out|connection timed out|certificate verify failed|ssl: ",
    re.IGNORECASE,
)
_HOST = re.compile(r"host='([^']+)'")
# The words that say why, in the order a person can act on them.
_REASONS = (
    ("unable to connect to proxy", "the proxy refused the connection"),
    ("failed to resolve", "the name does not resolve (DNS)"),
    ("name or service not known", "the name does not resolve (DNS)"),
    ("temporary failure in name resolution", "the name does not resolve (DNS)"),
    ("nodename nor servname", "the name does not resolve (DNS)"),
    ("network is unreachable", "the network is unreachable"),
    ("no route to host", "no route to the host"),
    ("connection refused", "the connection was refused"),
    ("certificate verify failed", "its TLS certificate is not trusted (REQUESTS_CA_BUNDLE)"),
    ("timed out", "the connection timed out"),
)


class Outcome(StrEnum):
    absent = "absent"  # this way is not set up here (no `az`, no AZURE_* variables)
    not_signed_in = "not_signed_in"  # `az` is installed, nobody ran `az login`
    incomplete = "incomplete"  # some AZURE_* variables set, not a full set
    refused = "refused"  # the sign-in service said no (bad secret, expired refresh token…)
    network = "network"  # no connection to the sign-in service
    timed_out = "timed_out"  # the device code expired before the person finished
    declined = "declined"  # the person declined in the browser
    wrong_tenant = "wrong_tenant"
    failed = "failed"  # anything else


@dataclass(frozen=True)
class Attempt:
    way: str  # cli | environment | device_code
    outcome: Outcome
    detail: str  # the first line of what the credential said
    reason: str = ""  # network: why no connection was made (read from the whole message)

    def describe(self) -> str:
        return f"{self.way}: {self.detail}"


@dataclass(frozen=True)
class Advice:
    cause: str
    fix: str
    unverified: bool  # True when the cause is the network: sign-in could not be tried, not refused


def network_reason(text: str) -> str:
    lowered = text.lower()
    return next((why for needle, why in _REASONS if needle in lowered), "no connection")


def classify(way: str, unavailable: bool, text: str, environ: dict[str, str] | None = None) -> Attempt:
    """Sort what one credential said. ``unavailable``: azure-identity's CredentialUnavailableError
    (this way is not set up), as opposed to ClientAuthenticationError (it tried and failed)."""
    env = os.environ if environ is None else environ
    lowered = text.lower()
    detail = text.strip().splitlines()[0][:300] if text.strip() else "no message"
    if _NETWORK.search(text):
        return Attempt(way, Outcome.network, detail, network_reason(text))
    if way == "cli":
        if "not found on path" in lowered:
            return Attempt(way, Outcome.absent, "the Azure CLI (az) is not installed or not on PATH")
        if "az login" in lowered and "aadsts" not in lowered:
            return Attempt(way, Outcome.not_signed_in, "the Azure CLI is not signed in")
        return Attempt(way, Outcome.failed if unavailable else Outcome.refused, detail)
    if way == "environment":
        if "not fully configured" in lowered:
            present = [v for v in SP_ANY_VARS if env.get(v)]
            if not present:
                return Attempt(way, Outcome.absent, "no service principal in AZURE_CLIENT_ID/AZURE_CLIENT_SECRET/AZURE_TENANT_ID")
            return Attempt(way, Outcome.incomplete, "missing " + ", ".join(missing_sp_vars(env)))
        return Attempt(way, Outcome.refused, detail)
    if way == "device_code":
        if "timed out waiting" in lowered or "expired_token" in lowered or "code expired" in lowered:
            return Attempt(way, Outcome.timed_out, detail)
        if "declined" in lowered:
            return Attempt(way, Outcome.declined, detail)
        return Attempt(way, Outcome.failed, detail)
    return Attempt(way, Outcome.failed, detail)


def missing_sp_vars(env: dict[str, str] | os._Environ[str]) -> list[str]:
    """The variables still missing from the closest complete service-principal set."""
    sets = (SP_SECRET_VARS, SP_CERT_VARS, SP_USER_VARS)
    best = min(sets, key=lambda s: (sum(1 for v in s if not env.get(v)), sets.index(s)))
    return [v for v in best if not env.get(v)]


def advise(
    attempts: list[Attempt],
    *,
    authority_host: str,
    tenant_id: str | None = None,
    cloud: str = "public",
    device_code_elsewhere: str | None = None,
    device_code_minutes: int = 5,
) -> Advice:
    """One cause and one fix for a sign-in where every way failed.

    ``device_code_elsewhere``: where a device code can be had when this run could not show one
    (the wizard's Prerequisites step: "go Back to Target and press …"); None on the CLI, which has none."""
    by = {a.outcome: a for a in attempts}
    tenant_flag = f" --tenant {tenant_id}" if tenant_id else ""
    cloud_first = {"usgov": "`az cloud set --name AzureUSGovernment`, then ",
                   "china": "`az cloud set --name AzureChinaCloud`, then ",
                   "custom": "`az cloud register`/`az cloud set` for this cloud, then "}.get(cloud, "")
    az_login = f"{cloud_first}`az login{tenant_flag}`"

    if Outcome.network in by:
        a = by[Outcome.network]
        proxy = any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"))
        via = " through the proxy in HTTPS_PROXY" if proxy else ""
        return Advice(
            f"cannot reach the sign-in service {authority_host}{via}: {a.reason or network_reason(a.detail)}",
            f"check this machine's network connection{', the proxy' if proxy else ''} and firewall to {authority_host} "
            "(https, port 443), then sign in again",
            unverified=True,
        )
    if Outcome.wrong_tenant in by:
        a = by[Outcome.wrong_tenant]
        return Advice(a.detail, f"sign in to tenant {tenant_id}: {az_login}", False)
    if Outcome.incomplete in by:
        missing = missing_sp_vars(os.environ)
        return Advice(
            f"the service principal in the environment is incomplete: {', '.join(missing)} not set",
            f"set {', '.join(missing)} (or unset the other AZURE_* variables to sign in another way)",
            False,
        )
    env_refused = next((a for a in attempts if a.way == "environment" and a.outcome is Outcome.refused), None)
    if env_refused is not None:
        client = os.environ.get("AZURE_CLIENT_ID", "")
        return Advice(
            f"the service principal {client} (AZURE_CLIENT_ID) was refused: {env_refused.detail}",
            "check AZURE_TENANT_ID and AZURE_CLIENT_SECRET (an expired secret is replaced with "
            f"`az ad sp credential reset --id {client or '<client id>'}`)",
            False,
        )
    if Outcome.timed_out in by:
        return Advice(
            "the device code expired before sign-in was finished in the browser",
            f"{device_code_elsewhere or 'press “Sign in to Azure”'} again and enter the new code within {device_code_minutes} minutes",
            False,
        )
    if Outcome.declined in by:
        return Advice("the sign-in was declined in the browser",
                      f"{device_code_elsewhere or 'press “Sign in to Azure”'} again and approve the sign-in "
                      "(with the account that has the subscription)", False)
    device_failed = next((a for a in attempts if a.way == "device_code" and a.outcome is Outcome.failed), None)
    cli = next((a for a in attempts if a.way == "cli"), None)
    if cli is not None and cli.outcome is Outcome.not_signed_in:
        return Advice("the Azure CLI is installed but not signed in", f"run {az_login}, then try again", False)
    if cli is not None and cli.outcome in (Outcome.refused, Outcome.failed):
        return Advice(f"the Azure CLI could not give a token: {cli.detail}", f"sign in again: {az_login}", False)
    if device_failed is not None:
        return Advice(f"device-code sign-in failed: {device_failed.detail}",
                      f"install the Azure CLI ({INSTALL_AZ}) and run {az_login}", False)
    # Nothing to sign in with here.
    if device_code_elsewhere:  # the wizard: a device code needs nothing installed
        fix = f"{device_code_elsewhere} to sign in with a device code (or install the Azure CLI and run {az_login})"
    else:
        fix = (f"install the Azure CLI ({INSTALL_AZ}) and run {az_login}, or set AZURE_TENANT_ID, "
               "AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for a service principal")
    absent = [a.way for a in attempts if a.outcome is Outcome.absent]
    what = {"cli": "the Azure CLI is not installed", "environment": "no service principal is set in AZURE_*"}
    cause = "; ".join(what[w] for w in absent if w in what) or "; ".join(a.describe() for a in attempts) or "no way to sign in was tried"
    return Advice(f"nothing to sign in with: {cause}", fix, False)
