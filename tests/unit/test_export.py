"""fabrix export: deterministic archive, MANIFEST, REVIEW.md, and no secret value anywhere."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest
import yaml

from installer.cli import main
from installer.secrets import SecretStore
from installer.state import install_dir
from tests.unit.blueprint_plans import BASE


def _answers(tmp_path: Path, **patch) -> Path:
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump({**BASE, **patch}))
    return path


def _entries(archive: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(archive) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _secret_values(name: str) -> list[str]:
    values = list(SecretStore(install_dir(name).secrets).values().values())
    assert len(values) >= 5  # the export generated (or reused) the install's secrets
    return values


@pytest.mark.parametrize("patch", [{"model": "container", "target": "compose"}, {"model": "container", "target": "aks"}],
                         ids=["compose", "aks"])
def test_export_is_deterministic_complete_and_secret_free(tmp_path: Path, patch: dict) -> None:
    answers = _answers(tmp_path, **patch)
    first, second = tmp_path / "one.zip", tmp_path / "two.zip"
    assert main(["export", "--answers", str(answers), "--out", str(first)]) == 0
    assert main(["export", "--answers", str(answers), "--out", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    entries = _entries(first)
    names = list(entries)
    assert names == sorted(names)
    with zipfile.ZipFile(first) as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert entries["answers.yaml"] == answers.read_bytes()
    # MANIFEST: sha256sum format, one line per other entry, every digest right.
    lines = entries["MANIFEST"].decode().splitlines()
    listed = {}
    for line in lines:
        digest, path = line.split("  ", 1)
        listed[path] = digest
    assert set(listed) == set(entries) - {"MANIFEST"}
    assert all(hashlib.sha256(entries[p]).hexdigest() == d for p, d in listed.items())
    # No generated secret value in any entry, and no .env at all.
    for value in _secret_values("review"):
        assert not any(value.encode() in data for data in entries.values())
    assert not any(p.rsplit("/", 1)[-1] == ".env" for p in entries)
    review = entries["REVIEW.md"].decode()
    for heading in ("What will be created", "What is exposed to which network", "Identities and their roles",
                    "Images and registries", "What the checks found"):
        assert f"## {heading}" in review
    if patch["target"] == "compose":
        assert "blueprints/.env.example" in entries
        assert "127.0.0.1:3002" in review and "this machine only" in review
    else:
        assert "blueprints/k8s/flowise.yaml" in entries and "blueprints/arm/mainTemplate.json" in entries
        assert "Key Vault Secrets User" in review and "AcrPull" in review
        # Read back from the manifests and the template (tests/unit/test_review_facts.py checks each row).
        assert "| flowise | 3000 | the Internet through Front Door to the cluster's internal ingress" in review
        assert "private endpoint(s) in the VNet; public network access disabled" in review
        assert "contosoacr.azurecr.io" in review


def test_export_includes_the_prerequisite_report(tmp_path: Path) -> None:
    answers = _answers(tmp_path, model="container", target="compose")
    report = tmp_path / "check.json"
    report.write_text(
        json.dumps({"type": "check", "id": "docker.engine", "title": "Docker Engine", "status": "fail",
                    "found": "not running", "remedy": "sudo systemctl start docker"}) + "\n"
        + json.dumps({"type": "result", "summary": {"pass": 3, "warn": 0, "fail": 1}, "exit_code": 1}) + "\n")
    out = tmp_path / "b.zip"
    assert main(["export", "--answers", str(answers), "--out", str(out), "--report", str(report)]) == 0
    entries = _entries(out)
    assert entries["check-report.json"] == report.read_bytes()
    review = entries["REVIEW.md"].decode()
    assert "3 pass" in review and "1 fail" in review and "sudo systemctl start docker" in review


def test_export_refuses_bad_input_and_writes_nothing(tmp_path: Path) -> None:
    answers = _answers(tmp_path, model="container", target="compose")
    report = tmp_path / "bad.json"
    report.write_text("this is not json\n")
    out = tmp_path / "b.zip"
    assert main(["export", "--answers", str(answers), "--out", str(out), "--report", str(report)]) == 2
    assert main(["export", "--answers", str(answers), "--out", str(tmp_path / "b.tar")]) == 2
    assert main(["export", "--answers", str(answers), "--out", str(out), "--report", str(tmp_path / "missing.json")]) == 2
    assert not out.exists()


def test_a_secret_that_reaches_an_entry_stops_the_export(tmp_path: Path) -> None:
    from installer.answers import plan_from_dict
    from installer.commands.export import build_entries
    from installer.errors import OperationFailed

    p = plan_from_dict({**BASE, "model": "container", "target": "compose"})
    secret = "S3cretValueThatMustNeverLeak"
    # The report is the one entry the person supplies: a leaked value there is caught too.
    report = json.dumps({"type": "check", "id": "x", "status": "warn", "found": secret}).encode()
    with pytest.raises(OperationFailed, match=r"secret value would be exported in .*check-report.json \(POSTGRES_PASSWORD\)"):
        build_entries(p, b"apiVersion: fabrix/v1\n", {"POSTGRES_PASSWORD": secret}, report)
