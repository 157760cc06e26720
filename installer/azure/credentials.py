"""Sign-in: which credential, who is signed in, and one cached token per run.

Order unless the person chooses: the Azure CLI login (``AzureCliCredential``), then a service
principal from the environment (``EnvironmentCredential``, for headless runs), then device code
(``DeviceCodeCredential``) — only when a ``prompt_callback`` is given, so the TUI shows the code
and URL itself and nothing writes to the terminal behind Textual's back.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from azure.core.credentials import AccessToken, AccessTokenInfo, TokenCredential
from azure.core.exceptions import ClientAuthenticationError

from installer.azure.clouds import Cloud, cloud_for
from installer.azure.signin_advice import Attempt, Outcome, advise, classify
from installer.errors import FabrixError, OperationFailed

# azure-identity logs a WARNING when a credential fails outside its own chain. With no handler
# configured, Python's last-resort handler prints it to stderr — behind Textual's back, and noise
# on the CLI (our own error says what failed). A NullHandler stops that; records still reach any
# handler the application installs (propagation is unchanged).
logging.getLogger("azure").addHandler(logging.NullHandler())

Method = Literal["auto", "cli", "environment", "device_code"]
# (verification_uri, user_code, expires_on) — azure-identity's DeviceCodeCredential callback shape.
PromptCallback = Callable[[str, str, datetime], None]


class AzureSignInError(OperationFailed):
    """No credential could get a token. ``message`` names the one cause, ``hint`` the one fix
    (``signin_advice.advise``); ``attempts`` keeps what each way said, for the JSON report."""

    def __init__(self, message: str, hint: str | None = None, attempts: list[Attempt] | None = None,
                 unverified: bool = False) -> None:
        super().__init__(message, hint)
        self.attempts = list(attempts or [])
        # True when the sign-in service could not be reached: sign-in was not refused, only not tried.
        self.unverified = unverified


@dataclass(frozen=True)
class SignInOptions:
    cloud: str = "public"  # public | usgov | china | custom
    arm_endpoint: str | None = None  # custom cloud: the ARM URL (or env FABRIX_ARM_ENDPOINT)
    tenant_id: str | None = None  # None: the credential's default tenant
    method: Method = "auto"
    client_id: str | None = None  # device code: our public client (default: the Azure developer app)
    timeout: int = 300  # device code: seconds the person has to finish

    @classmethod
    def from_plan(cls, plan: Any, **overrides: Any) -> SignInOptions:
        """From an ``InstallPlan`` (or its ``azure`` section)."""
        azure = getattr(plan, "azure", plan)
        values: dict[str, Any] = {
            "cloud": str(getattr(azure.cloud, "value", azure.cloud)),
            "arm_endpoint": azure.arm_endpoint,
            "tenant_id": azure.tenant_id,
        }
        values.update(overrides)
        return cls(**values)


@dataclass(frozen=True)
class Principal:
    kind: Literal["user", "app"]
    object_id: str
    tenant_id: str
    name: str  # user principal name / e-mail, or the app id for a service principal
    credential: str  # which credential signed in: cli | environment | device_code

    def describe(self) -> str:
        return f"{self.kind} {self.name} (object id {self.object_id}, tenant {self.tenant_id}) via {self.credential}"


def decode_claims(token: str) -> dict[str, Any]:
    """The JWT's payload, not verified: ARM verifies it; we only read who we are."""
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (IndexError, ValueError) as exc:
        raise AzureSignInError(
            "the access token is not a JWT, so the signed-in principal is unknown",
            "sign in again (`az login`); if a proxy rewrites tokens, bypass it",
        ) from exc
    return claims if isinstance(claims, dict) else {}


def principal_from_claims(claims: dict[str, Any], credential: str) -> Principal:
    idtyp = str(claims.get("idtyp") or "").lower()
    user_name = claims.get("upn") or claims.get("unique_name") or claims.get("preferred_username") or claims.get("email")
    kind: Literal["user", "app"] = "app" if idtyp == "app" or (not idtyp and not user_name and not claims.get("scp")) else "user"
    name = str(user_name if kind == "user" and user_name else claims.get("appid") or claims.get("azp") or claims.get("sub") or "?")
    return Principal(
        kind=kind,
        object_id=str(claims.get("oid") or ""),
        tenant_id=str(claims.get("tid") or ""),
        name=name,
        credential=credential,
    )


class CachingCredential:
    """Wraps a credential so every client of a run shares one token (and one ``az`` call).

    azure-core caches per authentication policy, i.e. per client; the CLI credential caches
    nothing. Behind a lock so concurrent checks do not all spawn ``az`` at once.
    """

    def __init__(self, inner: TokenCredential, refresh_margin: float = 300.0) -> None:
        self.inner = inner
        self._margin = refresh_margin
        self._lock = threading.Lock()
        self._tokens: dict[tuple[tuple[str, ...], str | None], AccessToken] = {}

    def get_token(self, *scopes: str, claims: str | None = None, tenant_id: str | None = None, **kwargs: Any) -> AccessToken:
        if claims:  # a claims challenge needs a fresh token; never serve it from the cache
            return self.inner.get_token(*scopes, claims=claims, tenant_id=tenant_id, **kwargs)
        key = (tuple(scopes), tenant_id)
        with self._lock:
            token = self._tokens.get(key)
            if token is None or token.expires_on - self._margin <= time.time():
                extra = {"tenant_id": tenant_id} if tenant_id else {}
                token = self.inner.get_token(*scopes, **extra, **kwargs)
                self._tokens[key] = token
            return token

    def get_token_info(self, *scopes: str, options: dict[str, Any] | None = None) -> AccessTokenInfo:
        opts = dict(options or {})
        token = self.get_token(*scopes, claims=opts.get("claims"), tenant_id=opts.get("tenant_id"))
        return AccessTokenInfo(token.token, token.expires_on)

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()


@dataclass
class AzureSession:
    """A signed-in principal on one cloud. Safe to share between threads."""

    cloud: Cloud
    credential: CachingCredential
    principal: Principal
    _factory: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def clients(self) -> Any:
        """The run's ``ClientFactory`` (one HTTP session and retry policy for every client)."""
        with self._lock:
            if self._factory is None:
                from installer.azure.clients import ClientFactory

                self._factory = ClientFactory(self.cloud, self.credential)
            return self._factory

    def serves(self, plan: Any) -> bool:
        """True when this sign-in is valid for ``plan``'s cloud, endpoint and tenant, so a caller
        (the wizard's Prerequisites step) may reuse it instead of signing in again. No network."""
        options = SignInOptions.from_plan(plan)
        try:
            wanted = cloud_for(options.cloud, options.arm_endpoint, discover=False)
        except FabrixError:
            return False
        if (wanted.name, wanted.arm_endpoint) != (self.cloud.name, self.cloud.arm_endpoint):
            return False
        return not options.tenant_id or options.tenant_id.lower() == self.principal.tenant_id.lower()

    def close(self) -> None:
        if self._factory is not None:
            self._factory.close()
        self.credential.close()


def _candidates(options: SignInOptions, cloud: Cloud, prompt_callback: PromptCallback | None) -> list[tuple[str, Callable[[], TokenCredential]]]:
    from azure.identity import AzureCliCredential, DeviceCodeCredential, EnvironmentCredential

    tenant = options.tenant_id or ""
    auth = {"authority": cloud.authority_host}

    def cli() -> TokenCredential:
        return AzureCliCredential(tenant_id=tenant, process_timeout=30)

    def env() -> TokenCredential:
        return EnvironmentCredential(**auth)

    def device() -> TokenCredential:
        extra: dict[str, Any] = {"client_id": options.client_id} if options.client_id else {}
        if tenant:
            extra["tenant_id"] = tenant
        return DeviceCodeCredential(prompt_callback=prompt_callback, timeout=options.timeout, **auth, **extra)

    table = {"cli": cli, "environment": env, "device_code": device}
    if options.method != "auto":
        return [(options.method, table[options.method])]
    order = [("cli", cli), ("environment", env)]
    if prompt_callback is not None:  # device code only where someone can see the code
        order.append(("device_code", device))
    return order


def sign_in(options: SignInOptions | None = None, prompt_callback: PromptCallback | None = None,
            device_code_elsewhere: str | None = None, earlier: list[Attempt] | None = None) -> AzureSession:
    """Sign in and find out who we are. Blocking (device code waits for the person): call it
    from a thread worker. Raises ``AzureSignInError`` (exit code 1) with one cause and one fix.

    ``device_code_elsewhere``: where the person can get a device code when this call offers none
    (the wizard's checks say "go Back to Target…"); it joins the fix when nothing else is set up.
    ``earlier``: attempts of ways this call does not try (the wizard's device code on Target), so
    the advice does not send the person back to a way that just failed (e.g. with the network down)."""
    from azure.identity import CredentialUnavailableError

    options = options or SignInOptions()
    cloud = cloud_for(options.cloud, options.arm_endpoint)
    if options.method == "device_code" and prompt_callback is None:
        raise AzureSignInError(
            "device-code sign-in needs somewhere to show the code",
            "pass prompt_callback (the TUI does), or sign in with `az login` first",
        )
    tried: list[Attempt] = []
    for name, make in _candidates(options, cloud, prompt_callback):
        credential = CachingCredential(make())
        try:
            token = credential.get_token(cloud.scope)
        except CredentialUnavailableError as exc:
            tried.append(classify(name, True, _message(exc)))
            continue
        except ClientAuthenticationError as exc:
            tried.append(classify(name, False, _message(exc)))
            if options.method != "auto":
                break
            continue
        principal = principal_from_claims(decode_claims(token.token), name)
        if options.tenant_id and principal.tenant_id and principal.tenant_id.lower() != options.tenant_id.lower():
            tried.append(Attempt(name, Outcome.wrong_tenant, f"the {name} sign-in is for tenant {principal.tenant_id}, not {options.tenant_id}"))
            continue
        return AzureSession(cloud=cloud, credential=credential, principal=principal)
    tried_ways = {a.way for a in tried}
    advice = advise(
        tried + [a for a in (earlier or []) if a.way not in tried_ways],
        authority_host=cloud.authority_host,
        tenant_id=options.tenant_id,
        cloud=options.cloud,
        device_code_elsewhere=device_code_elsewhere,
        device_code_minutes=max(1, options.timeout // 60),
    )
    raise AzureSignInError(f"could not sign in to Azure: {advice.cause}", advice.fix, tried, advice.unverified)


def _message(exc: BaseException) -> str:
    return str(getattr(exc, "message", None) or exc).strip() or type(exc).__name__
