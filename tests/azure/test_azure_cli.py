"""`fabrix check --answers F --json` end to end for an Azure plan against the fake ARM."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.azure import scenarios

REPO = Path(__file__).resolve().parents[2]


def _answers(tmp_path: Path, arm_url: str, **azure: str) -> Path:
    data = {
        "apiVersion": "fabrix/v1",
        "name": "demo",
        "model": "container",
        "target": "aca",
        "azure": {
            "cloud": "custom",
            "arm_endpoint": arm_url,
            "subscription_id": scenarios.SUBSCRIPTION,
            "location": scenarios.LOCATION,
            "resource_group": scenarios.RG,
            **azure,
        },
    }
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _fabrix(*args: str) -> subprocess.CompletedProcess[str]:
    # The real console entry point in a child process, with this test's PATH (stub az),
    # REQUESTS_CA_BUNDLE (the fake's CA) and FABRIX_HOME.
    return subprocess.run(
        [sys.executable, "-c", "from installer.cli import main; raise SystemExit(main())", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def _lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_check_json_healthy_exit_0(fake_arm, tmp_path: Path) -> None:
    arm = fake_arm()
    proc = _fabrix("check", "--answers", str(_answers(tmp_path, arm.url)), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    events = _lines(proc.stdout)  # every stdout line is JSON
    checks = [e for e in events if e["type"] == "check"]
    assert {c["id"] for c in checks} >= {"azure.signin", "azure.subscription", "azure.region", "azure.permissions", "azure.policy", "azure.name.keyvault"}
    assert all(c["status"] == "pass" for c in checks), [c for c in checks if c["status"] != "pass"]
    final = events[-1]
    assert final["type"] == "result" and final["exit_code"] == 0
    assert final["summary"]["pass"] == len(checks)


def test_check_json_disabled_subscription_exit_1(fake_arm, tmp_path: Path) -> None:
    arm = fake_arm(scenarios.disabled_subscription())
    proc = _fabrix("check", "--answers", str(_answers(tmp_path, arm.url)), "--json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    events = _lines(proc.stdout)
    sub = next(e for e in events if e.get("id") == "azure.subscription")
    assert sub["status"] == "fail" and "Disabled" in sub["found"] and sub["remedy"]
    assert events[-1]["exit_code"] == 1
    assert "Traceback" not in proc.stderr


def test_check_custom_cloud_without_endpoint_is_reported(fake_arm, tmp_path: Path, monkeypatch) -> None:
    fake_arm()
    monkeypatch.delenv("FABRIX_ARM_ENDPOINT")
    path = tmp_path / "answers.yaml"
    path.write_text(
        yaml.safe_dump({"apiVersion": "fabrix/v1", "name": "demo", "model": "container", "target": "aca",
                        "azure": {"cloud": "custom", "subscription_id": scenarios.SUBSCRIPTION, "location": scenarios.LOCATION}})
    )
    proc = _fabrix("check", "--answers", str(path), "--json")
    assert proc.returncode == 1
    signin = next(e for e in _lines(proc.stdout) if e.get("id") == "azure.signin")
    assert signin["status"] == "fail"
    assert "FABRIX_ARM_ENDPOINT" in signin["remedy"]


def test_check_exits_4_when_nothing_could_be_verified(fake_arm, tmp_path: Path) -> None:
    """403 on every subscription call: nothing failed, nothing was verified — a pipeline gate must
    not pass (exit 4, documented in `fabrix check --help` and the README)."""
    from tests.azure.fake_arm import Fault

    arm = fake_arm(faults=[Fault(r"^/subscriptions/", status=403, code="AuthorizationFailed")])
    proc = _fabrix("check", "--answers", str(_answers(tmp_path, arm.url)))
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "exit 4: nothing failed, but some checks could not be verified" in proc.stdout
    assert "Traceback" not in proc.stderr
    proc = _fabrix("check", "--answers", str(_answers(tmp_path, arm.url)), "--json")
    assert proc.returncode == 4 and _lines(proc.stdout)[-1]["exit_code"] == 4
    helptext = _fabrix("check", "--help").stdout
    assert "4 nothing failed, but a check could not be verified" in " ".join(helptext.split())


def test_failed_sign_in_is_said_once_and_the_rest_grouped_under_it(fake_arm, tmp_path: Path, monkeypatch) -> None:
    """No `az`, no service principal: one ✖ with one cause and one fix, and the checks that need
    ARM listed once under it (not twelve copies of the same error)."""
    arm = fake_arm()
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", f"{empty}:/usr/bin:/bin")
    answers = _answers(tmp_path, arm.url)
    proc = _fabrix("check", "--answers", str(answers))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert out.count("nothing to sign in with") == 1 and out.count("fix:") == 1
    assert "device" not in out.lower()  # the CLI has no device code to offer
    assert "? unknown" not in out
    grouped = next(line for line in out.splitlines() if "not verified until this is fixed" in line)
    for title in ("Azure subscription state and offer", "Region offers every resource type", "Key Vault name available"):
        assert out.count(title) == 1 and title in grouped
    assert "exit 1" in out
    events = _lines(_fabrix("check", "--answers", str(answers), "--json").stdout)
    checks = [e for e in events if e["type"] == "check"]
    signin = next(c for c in checks if c["id"] == "azure.signin")
    assert signin["status"] == "fail" and [a["outcome"] for a in signin["details"]["attempts"]] == ["absent", "absent"]
    others = [c for c in checks if c["id"] != "azure.signin"]
    assert others and all(c["status"] == "unknown" and c["details"]["blocked_by"] == "azure.signin" and c["remedy"] == ""
                          for c in others)
    assert events[-1]["exit_code"] == 1


def test_sign_in_with_the_network_down_could_not_verify_exit_4(fake_arm, az_stub, tmp_path: Path) -> None:
    arm = fake_arm()
    az_stub.set(scenarios_claims(), offline=True)
    proc = _fabrix("check", "--answers", str(_answers(tmp_path, arm.url)))
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "cannot reach the sign-in service" in proc.stdout and "az login" not in proc.stdout
    assert "not verified until this is fixed" in proc.stdout


def scenarios_claims() -> dict:
    from tests.azure.stub_az import user_claims

    return user_claims(scenarios.OID, scenarios.TENANT)


def test_a_misspelt_region_fails_with_the_closest_names(fake_arm, tmp_path: Path) -> None:
    arm = fake_arm()
    proc = _fabrix("check", "--answers", str(_answers(tmp_path, arm.url, location="swedencentrl")), "--json")
    region = next(e for e in _lines(proc.stdout) if e.get("id") == "azure.region")
    assert region["status"] == "fail" and "swedencentrl is not available" in region["found"]
    assert region["remedy"].startswith("did you mean swedencentral?")
    assert proc.returncode == 1


def test_arm_unreachable_is_said_once_under_the_subscription_check(az_stub, tmp_path: Path, monkeypatch) -> None:
    """Signed in (az has a token) but ARM gets no connection (a proxy port nobody listens on):
    one "no answer from ARM" with the network fix, the other checks grouped under it, exit 4."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{sock.getsockname()[1]}")
    for var in ("NO_PROXY", "no_proxy", "https_proxy", "FABRIX_ARM_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "fabrix/v1", "name": "demo", "model": "container", "target": "aca",
                                    "azure": {"cloud": "public", "subscription_id": scenarios.SUBSCRIPTION,
                                              "location": scenarios.LOCATION}}))
    proc = _fabrix("check", "--answers", str(path))
    assert proc.returncode == 4, proc.stdout + proc.stderr
    out = proc.stdout
    assert out.count("no answer from ARM (management.azure.com)") == 1 and out.count("fix:") == 1
    assert "the proxy refused the connection" in out
    assert "not verified until this is fixed (" in out and "? unknown" in out
    events = _lines(_fabrix("check", "--answers", str(path), "--json").stdout)
    blocked = [e for e in events if e.get("details", {}).get("blocked_by") == "azure.subscription"]
    assert len(blocked) >= 10 and all(e["status"] == "unknown" for e in blocked)


def test_check_header_names_the_target_only_where_the_model_renders_one(fake_arm, tmp_path: Path) -> None:
    """A development or Marketplace plan has no Compose part: the header must not say so."""
    arm = fake_arm()
    path = _answers(tmp_path, arm.url)
    for model, shown in (("development", "(development/aca,"), ("marketplace", "(marketplace,")):
        data = yaml.safe_load(path.read_text())
        data["model"] = model
        data.pop("target", None)
        path.write_text(yaml.safe_dump(data))
        proc = _fabrix("check", "--answers", str(path))
        header = proc.stdout.splitlines()[0] if proc.stdout else ""
        assert shown in header and "compose" not in header, proc.stdout + proc.stderr
