"""The render speed-ups keep every answer: each distinct file set is checked once per render but a
changed file is always checked again, the cached Kubernetes validators say what
kubernetes-validate says, and the fast YAML reader/writer agree with PyYAML's own on every bundle.
(Timing lives in bench/render_speed.py, never here.)"""

from __future__ import annotations

import copy
import sys
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError

from installer import yamlread
from installer.pipeline import render_checked
from installer.render import Bundle, render_plan, all_target_keys
from installer.render.aks import render_k8s
from installer.render.workload import KUBERNETES_VERSION
from installer.render import yamlout
from installer.validate.arm import validate_foundation
from installer.validate.kubernetes import load_docs, schema_findings, validate_manifests
from installer.validate.memo import remembered, validation_run
from tests.unit.blueprint_plans import inp, plan


@pytest.fixture(scope="module")
def everything() -> tuple[Any, Bundle]:
    i = inp(plan(model="container", target="aks"))
    return i, render_plan(i, all_target_keys())


def _yaml_files(bundle: Bundle) -> list[str]:
    return [p for p in bundle if p.endswith((".yaml", ".yml"))]


# ---------------------------------------------------------------- YAML: fast and reference agree

def test_fast_yaml_reader_reads_every_rendered_file_as_pyyaml_does(everything) -> None:
    _, bundle = everything
    files = _yaml_files(bundle)
    assert len(files) > 30
    for path in files:
        text = bundle.text(path)
        assert list(yamlread.safe_load_all(text)) == list(yaml.load_all(text, Loader=yaml.SafeLoader)), path


def test_fast_yaml_reader_raises_the_same_error_family() -> None:
    for bad, error in (("a: [1, 2", yaml.parser.ParserError), ("\tx: 1", yaml.scanner.ScannerError),
                       ("a: b: c", yaml.scanner.ScannerError), ("- a\nb: c", yaml.parser.ParserError),
                       ('x: "unterminated', yaml.scanner.ScannerError)):
        with pytest.raises(error):
            yaml.load(bad, Loader=yaml.SafeLoader)
        with pytest.raises(error):
            yamlread.safe_load(bad)
    with pytest.raises(AttributeError):  # not text: PyYAML's failure, which callers already handle
        yamlread.safe_load(42)  # type: ignore[arg-type]


def test_fast_yaml_writer_writes_the_same_bytes_on_every_rendered_file(everything) -> None:
    _, bundle = everything
    long_keys = 0
    for path in _yaml_files(bundle):
        docs = list(yaml.safe_load_all(bundle.text(path)))
        if not all(isinstance(d, (dict, list)) for d in docs):
            continue
        long_keys += yamlout._longest_key(docs) > yamlout._FAST_KEY_MAX
        assert yamlout.dump_all(docs) == yamlout.dump_all(docs, fast=False), path
        if len(docs) == 1:
            assert yamlout.dump(docs[0]) == yamlout.dump(docs[0], fast=False), path
    assert long_keys, "the bundles hold resource-id keys: the reference writer must have been exercised"


def test_a_key_over_128_characters_stays_a_plain_key() -> None:
    key = "/subscriptions/x/resourceGroups/y/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" + "z" * 60
    text = yamlout.dump({"identity": {key: {}}})
    assert "? " not in text and f"  {key}: {{}}" in text


# ---------------------------------------------------------------- Kubernetes schemas: same verdicts

def _library_verdict(doc: dict[str, Any]) -> str:
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except SchemaNotFoundError:
        return "no schema"
    except ValidationError as exc:
        return ("/".join(str(p) for p in exc.path) or "(top)") + ": " + exc.message
    return "ok"


def _our_verdict(doc: dict[str, Any]) -> str:
    found = schema_findings("k8s/x.yaml", doc)
    if not found:
        return "ok"
    message = found[0].message.split(": ", 1)[1]  # after "Kind/name: "
    return "no schema" if message.startswith("no schema for") else message


def test_cached_schema_validation_agrees_with_kubernetes_validate(everything) -> None:
    i, _ = everything
    docs = [d for _, d in load_docs(render_k8s(i))]
    broken = []
    for doc in docs:
        if doc["kind"] == "Deployment":
            d = copy.deepcopy(doc)
            d["spec"]["replicas"] = "two"
            broken.append(d)
            d = copy.deepcopy(doc)
            d["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsNoRoot"] = True
            broken.append(d)
        if doc["kind"] == "HorizontalPodAutoscaler":
            d = copy.deepcopy(doc)
            d["apiVersion"] = "autoscaling/v2beta1"  # removed in 1.25
            broken.append(d)
        if doc["kind"] == "Service":
            d = copy.deepcopy(doc)
            d["spec"]["ports"][0]["port"] = "http"
            broken.append(d)
    assert len(broken) >= 4
    for doc in docs:
        if doc["apiVersion"].startswith(("secrets-store", "approuting", "cilium")):
            continue  # custom kinds: no schema either way, checked by custom_findings
        assert _our_verdict(doc) == _library_verdict(doc) == "ok", doc["kind"]
    for doc in broken:
        assert _our_verdict(doc) == _library_verdict(doc) != "ok", (doc["kind"], _library_verdict(doc))


# ---------------------------------------------------------------- checked once, never stale

def _break_bicep(bundle: Bundle, prefix: str) -> Bundle:
    """The same bundle with one module that no longer parses."""
    broken = Bundle(dict(bundle.files), set(bundle.private))
    path = next(p for p in bundle if p.startswith(f"{prefix}bicep/modules/"))
    broken.files[path] = bundle.files[path] + b"\nresource oops 'Microsoft.Foo/bar@2024-01-01' = {\n"
    return broken


def test_a_changed_foundation_is_checked_again_inside_one_render(everything) -> None:
    i, bundle = everything
    with validation_run():
        assert [f for f in validate_foundation(bundle, i, "aca/", checkov=False) if f.severity == "error"] == []
        again = validate_foundation(_break_bicep(bundle, "aca/"), i, "aca/", checkov=False)
        assert any(f.validator == "pycep-parser" and f.path.startswith("aca/bicep/modules/") for f in again)
        # The same files under another target's folder: the one answer, with that target's paths.
        hybrid = validate_foundation(_break_bicep(bundle, "hybrid/"), i, "hybrid/", checkov=False)
        assert any(f.validator == "pycep-parser" and f.path.startswith("hybrid/bicep/modules/") for f in hybrid)


def test_a_changed_manifest_is_checked_again_inside_one_render(everything) -> None:
    i, _ = everything
    k8s = render_k8s(i)
    path = "k8s/flowise.yaml"
    docs = list(yaml.safe_load_all(k8s.text(path)))
    next(d for d in docs if d["kind"] == "Deployment")["spec"]["replicas"] = "two"
    broken = Bundle(dict(k8s.files))
    broken.files[path] = yamlout.dump_all(docs).encode()
    with validation_run():
        assert validate_manifests(k8s, i) == []
        assert any("replicas" in f.message for f in validate_manifests(broken, i))
        assert validate_manifests(k8s, i) == []


def test_remembered_findings_are_fresh_lists_and_forgotten_after_the_run() -> None:
    calls = []

    def compute() -> list:
        calls.append(1)
        return ["finding"]

    with validation_run():
        first = remembered(("k",), compute)
        first.append("added by a caller")
        assert remembered(("k",), compute) == ["finding"] and len(calls) == 1
    assert remembered(("k",), compute) == ["finding"] and len(calls) == 2  # outside a run: computed
    with validation_run():
        remembered(("k",), compute)
    assert len(calls) == 3  # a new run remembers nothing from the last


def test_all_targets_still_stop_on_a_defect_in_one_target(monkeypatch, tmp_path) -> None:
    """A defect in one target's copy of the shared foundation fails the render, even though the
    other targets' identical (good) copies were checked first."""
    import installer.pipeline as pipeline

    monkeypatch.setenv("FABRIX_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FABRIX_CHECKOV", "skip")
    real = pipeline.render_plan

    def render_with_a_broken_multicloud(inp_, keys):
        return _break_bicep(real(inp_, keys), "multicloud/")

    monkeypatch.setattr(pipeline, "render_plan", render_with_a_broken_multicloud)
    from installer.errors import OperationFailed

    with pytest.raises(OperationFailed, match=r"multicloud/bicep/modules/\S+: \[pycep-parser\]"):
        render_checked(plan(model="container", target="aks"), all_target_keys())


# ---------------------------------------------------------------- docker compose config: asked once

def _docker_script(folder, compose: str) -> None:
    import stat

    folder.mkdir(exist_ok=True)
    script = folder / "docker"
    script.write_text(f"#!/bin/sh\nif [ \"$1\" = compose ]; then {compose}; fi\nexit 1\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell script stands in for docker")
def test_compose_config_tells_a_missing_compose_from_a_bad_bundle(tmp_path, monkeypatch) -> None:
    """`docker compose version` is asked only when `config` did not pass: a docker without the
    Compose v2 plugin is a warning (skipped), a Compose that rejects the bundle is an error."""
    from installer.render.compose import render_compose
    from installer.validate.compose import CONFIG, validate_compose

    i = inp(plan(model="container", target="compose"))
    bundle = render_compose(i)
    _docker_script(tmp_path / "none", "echo \"docker: 'compose' is not a docker command.\" >&2; exit 1")
    monkeypatch.setenv("PATH", str(tmp_path / "none"))
    found = [f for f in validate_compose(bundle, i) if f.validator == CONFIG]
    assert [(f.severity, f.message) for f in found] == [("warning", "skipped: Docker Compose v2 is not available here")]

    log = tmp_path / "calls.log"
    _docker_script(tmp_path / "picky", f"echo \"$*\" >> {log}; if [ \"$2\" = version ]; then echo 2.40.3; exit 0; fi; "
                                       "echo 'services.flowise.ports: invalid' >&2; exit 15")
    monkeypatch.setenv("PATH", str(tmp_path / "picky"))
    found = [f for f in validate_compose(bundle, i) if f.validator == CONFIG]
    assert [(f.severity, f.message) for f in found] == [("error", "services.flowise.ports: invalid")]
    assert [line.split()[-2:] for line in log.read_text().splitlines()] == [["config", "--quiet"], ["version", "--short"]]

    log.unlink()
    _docker_script(tmp_path / "happy", f"echo \"$*\" >> {log}; exit 0")
    monkeypatch.setenv("PATH", str(tmp_path / "happy"))
    assert [f for f in validate_compose(bundle, i) if f.validator == CONFIG] == []
    assert [line.split()[-2:] for line in log.read_text().splitlines()] == [["config", "--quiet"]]  # no probe
