"""The AKS pods as rendered, run for real: each app's stand-in under the Deployment's own security
context (user, group, fsGroup, read-only root) and volumes (emptyDir, data claim, seeded dirs).

The stand-ins carry the real images' ownership of the paths that matter (tests/support/standin.py
IMAGE_DIRS) and their checks write where the real apps write (tests/support/standin_checks/), so a
pod that the restricted profile would leave unable to start fails here with the app's own error.
The security context fabrix rendered before (everything as 10001:10001, Flowise's data under
/root) must fail the same way."""

from __future__ import annotations

import copy
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from installer.render.aks import render_k8s
from installer.validate.kubernetes import load_docs
from tests.support.standin import build_standin, start_and_read
from tests.unit.blueprint_plans import inp, plan

pytestmark = pytest.mark.docker

LABEL = "dev.aifabrix.fabrix.test=restricted-context"
APPS = ("keycloak", "flowise", "openwebui")


def _deployments() -> dict[str, dict[str, Any]]:
    bundle = render_k8s(inp(plan(model="container", target="aks", tier="prod")))
    return {d["metadata"]["name"]: d for _, d in load_docs(bundle) if d["kind"] == "Deployment"}


def _run_args(pod: dict[str, Any], container: dict[str, Any], dirs: dict[str, Path]) -> list[str]:
    """docker run options that give one container what the kubelet would give it."""
    pod_sc, sc = pod.get("securityContext", {}), container.get("securityContext", {})
    user = sc.get("runAsUser", pod_sc.get("runAsUser"))
    group = sc.get("runAsGroup", pod_sc.get("runAsGroup"))
    args = ["--label", LABEL, "--user", f"{user}:{group}", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]
    if "fsGroup" in pod_sc:
        args += ["--group-add", str(pod_sc["fsGroup"])]  # the kubelet adds fsGroup to the process
    if sc.get("readOnlyRootFilesystem"):
        args.append("--read-only")
    for mount in container.get("volumeMounts", []):
        if mount["name"] in dirs:
            args += ["-v", f"{dirs[mount['name']]}:{mount['mountPath']}"]
    for var in container.get("env", []):
        args += ["-e", f"{var['name']}={var['value'] if 'value' in var else _secret_value(var)}"]
    return args


def _secret_value(var: dict[str, Any]) -> str:
    """A stand-in for a Key Vault value, in its format: connection URLs are URLs."""
    key = var.get("valueFrom", {}).get("secretKeyRef", {}).get("key", "")
    return "postgresql://role:pw@server:5432/db?sslmode=require" if key.endswith("-url") else "s3cret"


def _volume_dirs(pod: dict[str, Any], root: Path) -> dict[str, Path]:
    """A host folder per pod volume the way the kubelet prepares it: emptyDir world-writable,
    a data claim owned by fsGroup (setgid, group-writable); CSI secrets are not needed here."""
    fs_group = pod.get("securityContext", {}).get("fsGroup")
    out: dict[str, Path] = {}
    for vol in pod["volumes"]:
        path = root / vol["name"]
        if "emptyDir" in vol:
            path.mkdir()
            path.chmod(0o777)
        elif "persistentVolumeClaim" in vol:
            path.mkdir()
            os.chown(path, 0, fs_group if fs_group is not None else 0)
            path.chmod(0o2775)
        else:
            continue
        out[vol["name"]] = path
    return out


def _start(ref: str, deployment: dict[str, Any], root: Path) -> str:
    """Run the pod's init containers, then its app container; the stand-in's log once it serves
    or exits."""
    pod = deployment["spec"]["template"]["spec"]
    dirs = _volume_dirs(pod, root)
    for init in pod.get("initContainers", []):
        cmd = init["command"]
        res = subprocess.run(["docker", "run", "--rm", *_run_args(pod, init, dirs), "--entrypoint", cmd[0], ref, *cmd[1:]],
                             capture_output=True, text=True, timeout=60)
        if res.returncode != 0:
            return f"init container failed: {res.stderr}"
    container = pod["containers"][0]
    return start_and_read(ref, _run_args(pod, container, dirs), container.get("args", []))


@pytest.fixture(scope="module")
def standins(docker_ready) -> dict[str, str]:  # noqa: ANN001
    return {app: build_standin(app) for app in APPS}


@pytest.mark.parametrize("app", APPS)
def test_rendered_pod_starts_under_its_restricted_security_context(app: str, standins: dict[str, str],
                                                                    tmp_path: Path) -> None:
    log = _start(standins[app], _deployments()[app], tmp_path)
    assert f"stand-in {app} up" in log, log


def _container(dep: dict[str, Any]) -> dict[str, Any]:
    return dep["spec"]["template"]["spec"]["containers"][0]


def test_the_security_context_rendered_before_fails_like_the_real_images(standins: dict[str, str],
                                                                          tmp_path: Path) -> None:
    deps = _deployments()
    # Keycloak as 10001:10001: /opt/keycloak is writable for gid 0 only.
    kc = copy.deepcopy(deps["keycloak"])
    kc["spec"]["template"]["spec"]["securityContext"]["runAsGroup"] = 10001
    (tmp_path / "kc").mkdir()
    log = _start(standins["keycloak"], kc, tmp_path / "kc")
    assert "AccessDeniedException: /opt/keycloak/data/tmp" in log, log

    # Flowise without a HOME, data claim at /root/.flowise: HOME is / for a user without a home.
    fl = copy.deepcopy(deps["flowise"])
    c = _container(fl)
    c["env"] = [e for e in c["env"] if e["name"] != "HOME"]
    c["volumeMounts"] = [dict(m, mountPath="/root/.flowise") if m["mountPath"].endswith(".flowise") else m
                         for m in c["volumeMounts"] if m["mountPath"] != "/home/flowise"]
    (tmp_path / "fl").mkdir()
    log = _start(standins["flowise"], fl, tmp_path / "fl")
    assert "EACCES: permission denied, mkdir '//.flowise'" in log or "EACCES: permission denied, mkdir '/.flowise'" in log, log

    # Open WebUI without its data volume: /app is root's.
    ow = copy.deepcopy(deps["openwebui"])
    c = _container(ow)
    c["volumeMounts"] = [m for m in c["volumeMounts"] if m["mountPath"] != "/app/backend/data"]
    (tmp_path / "ow").mkdir()
    log = _start(standins["openwebui"], ow, tmp_path / "ow")
    assert "PermissionError: [Errno 13] Permission denied: '/app/backend/data/uploads'" in log, log
