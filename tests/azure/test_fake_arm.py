"""The fake ARM itself: what other tests rely on."""

from __future__ import annotations

import requests

from tests.azure import scenarios
from tests.azure.fake_arm import FakeArm, Fault

AUTH = {"Authorization": "Bearer x.e30.y"}


def test_paths_are_case_insensitive_and_auth_is_required(arm_ca) -> None:
    with FakeArm(scenarios.healthy(), arm_ca) as arm:
        url = f"{arm.url}SUBSCRIPTIONS/{scenarios.SUBSCRIPTION}/Providers/microsoft.app?api-version=2099-01-01"
        ok = requests.get(url, headers=AUTH, verify=arm.ca_path, timeout=10)
        assert ok.status_code == 200 and ok.json()["namespace"] == "Microsoft.App"
        denied = requests.get(url, verify=arm.ca_path, timeout=10)
        assert denied.status_code == 401 and denied.json()["error"]["code"] == "AuthenticationFailed"
        head = requests.head(f"{arm.url}subscriptions/{scenarios.SUBSCRIPTION}/resourceGroups/{scenarios.RG.upper()}", headers=AUTH, verify=arm.ca_path, timeout=10)
        assert head.status_code == 204
        assert arm.requests[0].query["api-version"] == ["2099-01-01"]  # recorded, never required


def test_next_links_are_absolute_and_faults_count_down(arm_ca) -> None:
    with FakeArm(scenarios.healthy(), arm_ca, page_size=4) as arm:
        url = f"{arm.url}subscriptions/{scenarios.SUBSCRIPTION}/locations?api-version=1"
        page = requests.get(url, headers=AUTH, verify=arm.ca_path, timeout=10).json()
        assert page["nextLink"].startswith(arm.url) and "$skiptoken=4" in page["nextLink"]
        rest = requests.get(page["nextLink"], headers=AUTH, verify=arm.ca_path, timeout=10).json()
        assert len(page["value"]) + len(rest["value"]) == len(scenarios.LOCATIONS) and "nextLink" not in rest
        arm.add_fault(Fault(r"/locations$", status=429, retry_after=7, times=1))
        throttled = requests.get(url, headers=AUTH, verify=arm.ca_path, timeout=10)
        assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "7"
        assert requests.get(url, headers=AUTH, verify=arm.ca_path, timeout=10).status_code == 200
