"""Property-based fuzz over the answers schema (issue 10): whatever the file holds, `fabrix
validate` and `fabrix render` exit 0 or 2, never show a traceback, finish in bounded time, agree
with each other, and write nothing outside `--out` and FABRIX_HOME.

Examples are few (this runs in seconds); the strategies mix valid values with the hostile ones
that once broke fabrix (`${…}`, markup, surrogates, huge numbers, paths, wrong types).
"""

from __future__ import annotations

import io
import os
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from installer.catalog import load_catalog
from installer.cli import main

COMPONENTS = sorted(load_catalog().components)

hostile_text = st.sampled_from([
    "${POSTGRES_PASSWORD}", "$HOME", "[/x]", "[bold]x", "../../victim", "~nosuchuser/x", "rel/dir",
    "\ud800", "a\nb", "x" * 2000, "", " ", "fe80::1%eth0", "rg(prod)", "'; rm -rf /", "\x00", "日本",
])
any_text = st.one_of(hostile_text, st.text(max_size=30))
scalar = st.one_of(any_text, st.integers(min_value=-(10**30), max_value=10**30), st.booleans(), st.none(),
                   st.floats(allow_nan=True), st.lists(st.integers(), max_size=3))


def field(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a plausible value, sometimes a hostile or wrongly typed one."""
    return st.one_of(valid, valid, scalar)


image_ref = st.one_of(st.sampled_from(["redis:7", "ghcr.io/org/app:1.2", "r.example.com:5000/a/b@sha256:" + "a" * 64,
                                       "evil.example/${POSTGRES_PASSWORD}:1"]), any_text)
answers = st.fixed_dictionaries(
    {"apiVersion": st.sampled_from(["fabrix/v1", "fabrix/v1", "fabrix/v2", 1])},
    optional={
        "name": field(st.sampled_from(["demo", "fuzz-1", "a"])),
        "model": field(st.sampled_from(["container", "manual", "marketplace", "hybrid", "multicloud", "development"])),
        "target": field(st.sampled_from(["compose", "aca", "aks"])),
        "tier": field(st.sampled_from(["evaluation", "dev", "test", "prod"])),
        "size": field(st.sampled_from(["s", "m", "l", "xl"])),
        "components": field(st.one_of(st.none(), st.lists(st.sampled_from(COMPONENTS), max_size=4),
                                      st.lists(any_text, max_size=2))),
        "images": field(st.fixed_dictionaries({}, optional={
            "registry": field(st.sampled_from(["myacr.azurecr.io", "127.0.0.1:5000"])),
            "username": field(st.sampled_from(["user", "u@x"])),
            "overrides": field(st.dictionaries(st.sampled_from(COMPONENTS), image_ref, max_size=2)),
            "pull": field(st.sampled_from(["always", "missing", "never"])),
        })),
        "compose": field(st.fixed_dictionaries({}, optional={
            "bind_address": field(st.sampled_from(["127.0.0.1", "0.0.0.0", "::1", "::"])),
            "ports": field(st.dictionaries(st.sampled_from(COMPONENTS),
                                           st.one_of(st.integers(1, 70000), scalar), max_size=2)),
            "data_dir": field(st.sampled_from(["/srv/fabrix-data", "~/fabrix-data"])),
        })),
        "identity": field(st.fixed_dictionaries({}, optional={
            "admin_email": field(st.sampled_from(["admin@example.com", "a.b@c.de"]))})),
        "azure": field(st.fixed_dictionaries({}, optional={
            "resource_group": field(st.sampled_from(["rg-demo", "rg(prod)"])),
            "location": field(st.sampled_from(["westeurope", "swedencentral"])),
            "subscription_id": field(st.just("00000000-0000-0000-0000-000000000000")),
            "name_prefix": field(st.sampled_from(["fx", "demo1"])),
            "cloud": field(st.sampled_from(["public", "custom"])),
            "arm_endpoint": field(st.sampled_from(["https://arm.example.test", "http://x"])),
        })),
        "unknown_key": scalar,
    },
)


def _cli(*args: str) -> tuple[int, str]:
    buf = io.StringIO()
    with redirect_stdout(buf), redirect_stderr(buf):
        rc = main(list(args))
    return rc, buf.getvalue()


def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=answers)
def test_any_answers_file_is_exit_0_or_2_bounded_and_writes_only_where_allowed(data: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory(prefix="fabrix-fuzz-") as tmp:
        root = Path(tmp)
        home, work, private_tmp = root / "home", root / "work", root / "tmp"
        for d in (home, work, private_tmp):
            d.mkdir()
        path = work / "answers.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=False), encoding="utf-8")
        out = work / "out"
        saved = (os.environ.get("FABRIX_HOME"), tempfile.tempdir, os.getcwd())
        os.environ["FABRIX_HOME"] = str(home)
        tempfile.tempdir = str(private_tmp)
        os.chdir(work)
        try:
            started = time.monotonic()
            v_rc, v_text = _cli("validate", "--answers", str(path))
            r_rc, r_text = _cli("render", "--answers", str(path), "--out", str(out))
            elapsed = time.monotonic() - started
        finally:
            os.environ["FABRIX_HOME"] = saved[0] or ""
            tempfile.tempdir = saved[1]
            os.chdir(saved[2])
        for rc, text in ((v_rc, v_text), (r_rc, r_text)):
            assert rc in (0, 2), text
            assert "Traceback" not in text and "internal error" not in text, text
        assert v_rc == r_rc, f"validate said {v_rc}, render said {r_rc}:\n{v_text}\n{r_text}"
        assert elapsed < 60, elapsed
        # Nothing outside --out and FABRIX_HOME: the work folder holds the answers and out only,
        # the private temp folder is empty again.
        assert {p.name for p in work.iterdir()} <= {"answers.yaml", "out"}
        assert [p.name for p in private_tmp.iterdir() if not p.name.startswith("fabrix-cwd-")] == []
        if v_rc == 2:
            assert not out.exists()


yaml_fragments = st.sampled_from([
    "apiVersion: fabrix/v1\n", "name: demo\n", "&a [1, 2]\n", "*a\n", "!!int x\n", "!!python/object:os.system x\n",
    "compose: {ports: {redis: 99999999999999999999}}\n", "{", "[", "- \n", "? \n", "\t", "'\\ud800'\n", '"\\ud800"\n',
    "model: [/x]\n", "name: name\nname: again\n", "<<: {a: 1}\n", "%YAML 1.1\n---\n", "\x00", "\ufeff",
])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=st.lists(st.one_of(yaml_fragments, st.text(max_size=20)), max_size=8))
def test_any_text_as_an_answers_file_is_exit_0_or_2_without_a_traceback(parts: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="fabrix-fuzz-") as tmp:
        path = Path(tmp) / "answers.yaml"
        path.write_bytes("".join(parts).encode("utf-8", "surrogatepass"))
        started = time.monotonic()
        rc, text = _cli("validate", "--answers", str(path))
        assert rc in (0, 2), text
        assert "Traceback" not in text and "internal error" not in text, text
        assert time.monotonic() - started < 20
