"""One cause and one fix for every way sign-in can fail, through the real azure-identity
credentials (stub `az`, a closed proxy for "network down"), and the mapping for the outcomes
that need a person at a browser (device code expired or declined)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from installer.azure import AzureSignInError, SignInOptions, sign_in
from installer.azure.signin_advice import Attempt, Outcome, advise, classify
from tests.azure import scenarios
from tests.azure.stub_az import user_claims

_SP_VARS = ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_CLIENT_CERTIFICATE_PATH",
            "AZURE_USERNAME", "AZURE_PASSWORD")


@pytest.fixture
def no_az(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine without the Azure CLI and without a service principal."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", f"{empty}:/usr/bin:/bin")
    for var in _SP_VARS:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def network_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every HTTPS request goes to a proxy port nobody listens on: a real connection failure."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for var in ("NO_PROXY", "no_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")


def _fails(options: SignInOptions, prompt=None) -> AzureSignInError:  # noqa: ANN001
    with pytest.raises(AzureSignInError) as err:
        sign_in(options, prompt_callback=prompt)
    return err.value


def test_no_az_no_service_principal_names_both_and_how_to_get_one(no_az) -> None:  # noqa: ANN001
    err = _fails(SignInOptions(cloud="public"))
    assert "nothing to sign in with" in err.message
    assert "Azure CLI is not installed" in err.message and "no service principal" in err.message
    assert "install the Azure CLI" in (err.hint or "") and "AZURE_CLIENT_SECRET" in (err.hint or "")
    # The CLI cannot show a device code: it must not suggest one.
    assert "device" not in (err.hint or "").lower()
    assert not err.unverified


def test_the_wizard_adds_where_a_device_code_is_to_be_had(no_az) -> None:  # noqa: ANN001
    with pytest.raises(AzureSignInError) as err:
        sign_in(SignInOptions(cloud="public"), device_code_elsewhere="go Back to Target and press “Sign in to Azure”")
    assert (err.value.hint or "").startswith("go Back to Target")


def test_device_code_with_the_network_down_blames_the_network_not_the_way(no_az, network_down) -> None:  # noqa: ANN001
    """The issue's case: no `az`, the network down, device code offered and failing. The advice
    must not be "use device-code sign-in" — it is the network."""
    codes: list[str] = []
    err = _fails(SignInOptions(cloud="public"), prompt=lambda url, code, _exp: codes.append(code))
    assert codes == []  # the code was never issued
    assert "cannot reach the sign-in service login.microsoftonline.com" in err.message
    assert "proxy" in err.message
    hint = err.hint or ""
    assert "network" in hint and "device" not in hint.lower() and "az login" not in hint
    assert err.unverified
    assert [a.outcome for a in err.attempts] == [Outcome.absent, Outcome.absent, Outcome.network]


def test_az_present_but_not_signed_in_says_az_login_only(fake_arm, az_stub) -> None:  # noqa: ANN001
    fake_arm()
    az_stub.set({}, logged_in=False)
    err = _fails(SignInOptions(cloud="custom"))
    assert err.message == "could not sign in to Azure: the Azure CLI is installed but not signed in"
    assert "az login" in (err.hint or "") and "install the Azure CLI" not in (err.hint or "")


def test_az_signed_in_but_offline_blames_the_network(fake_arm, az_stub) -> None:  # noqa: ANN001
    fake_arm()
    az_stub.set(user_claims(scenarios.OID, scenarios.TENANT), offline=True)
    err = _fails(SignInOptions(cloud="custom"))
    assert "cannot reach the sign-in service" in err.message and "does not resolve (DNS)" in err.message
    assert "az login" not in (err.hint or "") and err.unverified


def test_incomplete_service_principal_names_the_missing_variables(no_az, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("AZURE_CLIENT_ID", "0f0f0f0f-1111-2222-3333-444444444444")
    err = _fails(SignInOptions(cloud="public"))
    assert "service principal in the environment is incomplete" in err.message
    assert "AZURE_CLIENT_SECRET" in err.message and "AZURE_TENANT_ID" in err.message
    assert (err.hint or "").startswith("set AZURE_CLIENT_SECRET, AZURE_TENANT_ID")


def test_sovereign_cloud_says_to_set_the_cloud_before_az_login(fake_arm, az_stub) -> None:  # noqa: ANN001
    az_stub.set({}, logged_in=False)
    err = _fails(SignInOptions(cloud="usgov", tenant_id=scenarios.TENANT))
    assert "`az cloud set --name AzureUSGovernment`, then `az login --tenant " + scenarios.TENANT + "`" in (err.hint or "")


# The outcomes below need a person at a browser; the texts are azure-identity's own
# (_credentials/device_code.py, _credentials/azure_cli.py) and MSAL's device-flow error codes.

def test_device_code_timeout_says_to_try_again_in_time() -> None:
    attempts = [classify("cli", True, "Azure CLI not found on path", {}),
                classify("environment", True, "EnvironmentCredential authentication unavailable. Environment variables are not fully configured.", {}),
                classify("device_code", False, "Timed out waiting for user to authenticate", {})]
    advice = advise(attempts, authority_host="login.microsoftonline.com", device_code_minutes=5)
    assert advice.cause == "the device code expired before sign-in was finished in the browser"
    assert "again" in advice.fix and "5 minutes" in advice.fix and not advice.unverified


def test_device_code_declined() -> None:
    attempt = classify("device_code", False, "Authentication failed: authorization_declined", {})
    assert attempt.outcome is Outcome.declined
    assert "declined" in advise([attempt], authority_host="login.microsoftonline.com").cause


def test_refused_service_principal_points_at_its_secret() -> None:
    attempt = classify("environment", False, "Authentication failed: AADSTS7000215: Invalid client secret provided.", {})
    assert attempt.outcome is Outcome.refused
    advice = advise([Attempt("cli", Outcome.absent, "no az"), attempt], authority_host="login.microsoftonline.com")
    assert "was refused: Authentication failed: AADSTS7000215" in advice.cause
    assert "AZURE_CLIENT_SECRET" in advice.fix and "az ad sp credential reset" in advice.fix


def test_network_wins_over_every_other_outcome() -> None:
    attempts = [Attempt("cli", Outcome.not_signed_in, "x"),
                classify("device_code", False, "Failed to establish a new connection: [Errno 101] Network is unreachable", {})]
    advice = advise(attempts, authority_host="login.microsoftonline.us")
    assert advice.unverified and "login.microsoftonline.us" in advice.cause and "network is unreachable" in advice.cause


def test_an_earlier_device_code_failure_is_not_advised_again(no_az) -> None:  # noqa: ANN001
    """The wizard's checks cannot show a device code; when the one on Target failed for want of a
    network, the checks' advice is the network, not "go Back to Target for a device code"."""
    earlier = [classify("device_code", False, "Authentication failed: Failed to resolve 'login.microsoftonline.com'", {})]
    err = _fails_with(SignInOptions(cloud="public"), device_code_elsewhere="go Back to Target and press “Sign in to Azure”",
                      earlier=earlier)
    assert "cannot reach the sign-in service" in err.message and "does not resolve (DNS)" in err.message
    assert "Back to Target" not in (err.hint or "") and err.unverified


def _fails_with(options: SignInOptions, **kwargs) -> AzureSignInError:  # noqa: ANN003
    with pytest.raises(AzureSignInError) as err:
        sign_in(options, **kwargs)
    return err.value
