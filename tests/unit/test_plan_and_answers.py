"""InstallPlan defaults, answers-file errors, the committed schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from installer.answers import dump_answers, load_answers, plan_from_dict
from installer.cli import main
from installer.commands.schema import schema_text
from installer.errors import UsageError
from installer.plan import InstallPlan
from installer.resources import asset

MINIMAL = {"apiVersion": "fabrix/v1", "name": "demo", "model": "container", "target": "compose"}


def test_minimal_plan_is_a_complete_evaluation_plan() -> None:
    plan = plan_from_dict(MINIMAL)
    assert plan.tier.value == "evaluation" and plan.size.value == "s"
    assert plan.compose.bind_address == "127.0.0.1"
    assert plan.enabled_components() == ["postgres", "redis", "keycloak", "flowise", "openwebui", "traefik"]
    assert not plan.is_azure()


def test_private_components_join_the_default_profile_only_with_a_registry() -> None:
    plan = plan_from_dict({**MINIMAL, "images": {"registry": "myacr.azurecr.io"}})
    assert {"miso-controller", "dataplane"} <= set(plan.enabled_components())
    assert plan.image_for("dataplane") == "myacr.azurecr.io/aifabrix/dataplane:latest"


def test_explicit_components_pull_in_their_dependencies() -> None:
    plan = plan_from_dict({**MINIMAL, "components": ["flowise"]})
    assert plan.enabled_components() == ["postgres", "flowise"]


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ({"compose": {"ports": {"flowise": 70000}}}, "compose.ports.flowise: 70000 is not a port (1–65535)"),
        ({"modle": "container"}, "modle: unknown key; did you mean 'model'?"),
        ({"images": {"regsitry": "x.io"}}, "images.regsitry: unknown key; did you mean 'registry'?"),
        ({"name": "Bad_Name"}, "name: 'Bad_Name' is not a valid install name"),
        ({"model": "boat"}, "model: 'boat' is not allowed; use one of"),
        ({"components": ["flowise", "nope"]}, "unknown component 'nope'"),
        ({"compose": {"bind_address": "localhost"}}, "compose.bind_address: 'localhost' is not an IP address"),
        ({"apiVersion": "fabrix/v0"}, "apiVersion: 'fabrix/v0' is not supported; use 'fabrix/v1'"),
        ({"identity": {"admin_email": "nobody"}}, "identity.admin_email: 'nobody' is not an email address"),
    ],
)
def test_errors_name_the_field_and_the_fix(patch: dict, expected: str) -> None:
    with pytest.raises(UsageError) as err:
        plan_from_dict({**MINIMAL, **patch})
    assert expected in err.value.message


def test_answers_round_trip(tmp_path: Path) -> None:
    plan = plan_from_dict({**MINIMAL, "size": "m", "compose": {"ports": {"flowise": 13002}}})
    path = tmp_path / "a.yaml"
    path.write_text(dump_answers(plan))
    assert load_answers(path) == plan
    assert path.read_text().startswith("apiVersion: fabrix/v1\n")


def test_malformed_yaml_names_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("apiVersion: fabrix/v1\nname: [demo\n")
    with pytest.raises(UsageError) as err:
        load_answers(path)
    assert "not valid YAML at line" in err.value.message


def test_validate_command_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(dump_answers(plan_from_dict(MINIMAL)))
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: fabrix/v1\nname: demo\ncompose: {ports: {flowise: 70000}}\n")
    assert main(["validate", "--answers", str(good)]) == 0
    assert main(["validate", "--answers", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "compose.ports.flowise: 70000 is not a port (1–65535)" in err
    assert "Traceback" not in err
    assert main(["validate", "--answers", str(tmp_path / "missing.yaml")]) == 2
    assert main(["frobnicate"]) == 2


def test_committed_schema_matches_the_model() -> None:
    committed = json.loads(asset("answers.schema.json").read_text())
    assert committed == json.loads(schema_text()), "run `fabrix schema > assets/answers.schema.json`"
    assert committed["additionalProperties"] is False
    assert "apiVersion" in committed["required"] or "apiVersion" in committed["properties"]


def test_plan_rejects_unknown_keys_on_assignment_too() -> None:
    plan = InstallPlan(name="demo")
    with pytest.raises(Exception):
        plan.compose.bind_address = "not-an-ip"
