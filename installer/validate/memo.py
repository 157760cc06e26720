"""Validate each distinct set of files once per render.

``fabrix render --all-targets`` renders the same Azure foundation (and the same manifests) for
several targets; without this, each copy went through the same checks again. Inside
``validation_run()`` (opened by ``pipeline.render_checked``) a check's findings are remembered
under a key made of the check's name, the exact bytes of every file it reads, and every other
input it reads (``RenderInput`` by identity: one render has one). Outside a run nothing is
remembered, and a run's memory ends with it: a change can never be hidden by an earlier answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from installer.render import Bundle

if TYPE_CHECKING:
    from installer.validate import Finding



class _Run:
    def __init__(self) -> None:
        self.memo: dict[Hashable, tuple[Finding, ...]] = {}
        self.alive: list[object] = []  # objects keyed by identity stay alive: their id is never reused


_RUN: ContextVar[_Run | None] = ContextVar("fabrix_validation_memo", default=None)


@contextmanager
def validation_run() -> Iterator[None]:
    token = _RUN.set(_Run())
    try:
        yield
    finally:
        _RUN.reset(token)


def files_digest(bundle: Bundle, folders: tuple[str, ...]) -> str:
    """sha256 over the path and bytes of every file under ``folders`` (paths relative to ``bundle``)."""
    h = hashlib.sha256()
    for path in sorted(bundle.files):
        if path.startswith(folders):
            data = bundle.files[path]
            h.update(b"%d:%s\0%d:" % (len(path), path.encode(), len(data)))
            h.update(data)
    return h.hexdigest()


def identity(obj: object) -> int:
    """A key part for an input compared by identity (the run's ``RenderInput``)."""
    run = _RUN.get()
    if run is not None:
        run.alive.append(obj)
    return id(obj)


def remembered(key: tuple[Hashable, ...], compute: Callable[[], list[Finding]]) -> list[Finding]:
    """``compute()``, or inside a validation run the findings it gave for the same key (a fresh
    list each time: callers extend what they get)."""
    run = _RUN.get()
    if run is None:
        return compute()
    if key not in run.memo:
        run.memo[key] = tuple(compute())
    return list(run.memo[key])
