"""Read and write answers files (YAML ``InstallPlan`` with ``apiVersion: fabrix/v1``).

Every problem becomes a ``UsageError`` whose text names the file, the field path and the fix,
e.g. ``compose.ports.flowise: 70000 is not a port (1–65535)`` or an unknown key with a
"did you mean" suggestion.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from installer.errors import UsageError
from installer.fsutil import write_atomic
from installer.plan import API_VERSION, InstallPlan


def _model_at(path: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The pydantic model that owns the field at ``path`` (for did-you-mean on unknown keys)."""
    model: type[BaseModel] = InstallPlan
    for part in path:
        field = model.model_fields.get(str(part)) or next(
            (f for f in model.model_fields.values() if f.alias == part), None
        )
        if field is None:
            return None
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
        else:
            return None
    return model


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def describe_errors(exc: ValidationError) -> list[str]:
    """One line per problem: ``path: what is wrong`` plus the fix where we know it."""
    lines: list[str] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        where = ".".join(str(p) for p in loc) or "(top level)"
        kind = err["type"]
        if kind == "extra_forbidden":
            key = str(loc[-1])
            owner = _model_at(loc[:-1])
            hint = ""
            if owner is not None:
                close = difflib.get_close_matches(key, _field_names(owner), n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else (
                    f"; allowed here: {', '.join(_field_names(owner))}"
                )
            lines.append(f"{where}: unknown key{hint}")
        elif kind == "missing":
            lines.append(f"{where}: required; add it to the answers file")
        elif kind == "enum":
            expected = err.get("ctx", {}).get("expected", "")
            lines.append(f"{where}: {err['input']!r} is not allowed; use one of {expected}")
        elif kind == "literal_error" and loc == ("apiVersion",):
            lines.append(f"apiVersion: {err['input']!r} is not supported; use {API_VERSION!r}")
        else:
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{where}: {msg}")
    return lines


def plan_from_dict(data: Any, source: str = "answers") -> InstallPlan:
    if not isinstance(data, dict):
        raise UsageError(
            f"{source}: expected a mapping of answers, found {type(data).__name__}",
            "start from `fabrix schema` or an answers file saved by the wizard",
        )
    if "apiVersion" not in data:
        raise UsageError(f"{source}: apiVersion is missing", f"add `apiVersion: {API_VERSION}` at the top")
    try:
        return InstallPlan.model_validate(data)
    except ValidationError as exc:
        problems = describe_errors(exc)
        raise UsageError(
            f"{source}: {len(problems)} problem(s)\n  " + "\n  ".join(problems),
            "correct the fields named above; `fabrix schema` lists every field",
        ) from None


def load_answers(path: str | os.PathLike[str]) -> InstallPlan:
    file = Path(path)
    if not file.exists():
        raise UsageError(f"answers file {file} does not exist", "check the path passed to --answers")
    if file.is_dir():
        raise UsageError(f"answers file {file} is a folder", "pass the YAML file, not its folder")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read answers file {file}: {exc}", "pass a readable UTF-8 YAML file") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise UsageError(
            f"{file}: not valid YAML{where}: {problem}", "fix the YAML syntax (indentation, colons, quotes)"
        ) from None
    return plan_from_dict(data, str(file))


def dump_answers(plan: InstallPlan) -> str:
    return yaml.safe_dump(plan.to_answers_dict(), sort_keys=False, allow_unicode=True)


def save_answers(plan: InstallPlan, path: str | os.PathLike[str]) -> None:
    write_atomic(Path(path), dump_answers(plan).encode("utf-8"))
