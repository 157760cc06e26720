"""Secret store, bundle writing and the concurrent check runner."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from installer.answers import plan_from_dict
from installer.checks.base import Check, CheckContext, CheckResult, Status, exit_code_for, run_checks
from installer.errors import UsageError
from installer.render.bundle import Bundle
from installer.secrets import SecretStore, redact, secrets_for
from installer.state import existing_install, install_dir


def test_secrets_generated_once_private_and_stable(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"
    store = SecretStore(path)
    names = secrets_for(["postgres", "flowise"])
    assert names == ["flowise_db_password", "flowise_secret_key", "postgres_password"]
    assert store.ensure(names)
    store.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = SecretStore(path).values()
    again = SecretStore(path)
    assert not again.ensure(names), "existing secrets must be kept, not regenerated"
    assert again.values() == first
    assert len(first["POSTGRES_PASSWORD"]) == 32 and first["POSTGRES_PASSWORD"].isalnum()
    assert len(first["FLOWISE_SECRET_KEY"]) == 64


def test_loose_secret_file_mode_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"
    path.write_text("POSTGRES_PASSWORD=abc\n")
    path.chmod(0o644)
    assert SecretStore(path).get("postgres_password") == "abc"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_redact_hides_every_secret_value() -> None:
    text = "login with hunter2hunter2 or s3cr3t-value please"
    assert redact(text, ["hunter2hunter2", "s3cr3t-value", "x"]) == "login with *** or *** please"


def test_bundle_write_replaces_atomically_with_modes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = Bundle()
    first.add("compose.yaml", "a: 1\n")
    first.add(".env", "SECRET=1\n", private=True)
    first.write(out)
    assert stat.S_IMODE((out / ".env").stat().st_mode) == 0o600
    assert stat.S_IMODE((out / "compose.yaml").stat().st_mode) == 0o644
    second = Bundle()
    second.add("other.txt", "b")
    second.write(out)
    assert sorted(p.name for p in out.iterdir()) == [".fabrix-bundle", "other.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"], "no staging folders left behind"
    with pytest.raises(ValueError):
        second.add("../escape", "x")


def test_checks_run_concurrently_and_errors_become_unknown() -> None:
    plan = plan_from_dict({"apiVersion": "fabrix/v1", "name": "demo"})
    barrier = threading.Barrier(3, timeout=5)

    def waits(ctx: CheckContext) -> CheckResult:
        barrier.wait()  # only returns if all three run at the same time
        return CheckResult("w", "waits", Status.passed, "ok")

    def breaks(ctx: CheckContext) -> CheckResult:
        barrier.wait()
        raise RuntimeError("API said 500")

    checks = [Check("a", "a", waits), Check("b", "b", waits), Check("c", "c", breaks)]
    results = {r.id: r for r in run_checks(checks, CheckContext(plan=plan))}
    assert results["c"].status is Status.unknown and "API said 500" in results["c"].found
    assert exit_code_for(list(results.values())) == 4  # could not verify: never 0


def test_a_hung_check_is_reported_unknown_not_awaited() -> None:
    plan = plan_from_dict({"apiVersion": "fabrix/v1", "name": "demo"})
    release = threading.Event()

    def hangs(ctx: CheckContext) -> CheckResult:
        release.wait(10)
        return CheckResult("h", "hangs", Status.passed, "late")

    try:
        results = list(run_checks([Check("h", "hangs", hangs)], CheckContext(plan=plan), timeout=0.2))
    finally:
        release.set()
    assert [r.status for r in results] == [Status.unknown]
    assert "no answer within" in results[0].found


def test_exit_codes_for_results() -> None:
    fail = CheckResult("x", "x", Status.fail, "")
    missing = CheckResult("d", "docker", Status.fail, "", tool_missing=True)
    assert exit_code_for([fail]) == 1
    assert exit_code_for([fail, missing]) == 3
    unknown = CheckResult("u", "u", Status.unknown, "could not verify")
    warn = CheckResult("w", "w", Status.warn, "")
    assert exit_code_for([warn]) == 0
    assert exit_code_for([warn, unknown]) == 4
    assert exit_code_for([unknown, fail]) == 1  # a known failure outranks an unverified check


def test_unknown_install_lists_known_ones() -> None:
    install_dir("alpha").create()
    with pytest.raises(UsageError) as err:
        existing_install("beta")
    assert "known: alpha" in err.value.message
