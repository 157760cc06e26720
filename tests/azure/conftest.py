"""Fixtures: the HTTPS fake ARM, a stub ``az`` on PATH, and an environment that points at both."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from tests.azure import scenarios
from tests.azure.fake_arm import FakeArm, Fault
from tests.azure.stub_az import StubAz, user_claims


@pytest.fixture(scope="session")
def arm_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def az_stub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StubAz:
    stub = StubAz(tmp_path / "bin", user_claims(scenarios.OID, scenarios.TENANT))
    monkeypatch.setenv("PATH", f"{stub.folder}:/usr/bin:/bin")
    # A developer's own service principal must not leak into the tests' sign-in chain.
    for var in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME"):
        monkeypatch.delenv(var, raising=False)
    return stub


@pytest.fixture
def fake_arm(arm_ca: trustme.CA, az_stub: StubAz, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., FakeArm]]:
    """``fake_arm(scenario, faults=[...], page_size=N)`` → a started FakeArm the environment points at."""
    started: list[FakeArm] = []

    def start(scenario: dict[str, Any] | None = None, faults: list[Fault] | None = None, page_size: int = 2, latency: float = 0.0) -> FakeArm:
        arm = FakeArm(scenario or scenarios.healthy(), arm_ca, faults=faults, page_size=page_size, latency=latency).start()
        started.append(arm)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", arm.ca_path)
        monkeypatch.setenv("FABRIX_ARM_ENDPOINT", arm.url)
        return arm

    yield start
    for arm in started:
        arm.stop()
