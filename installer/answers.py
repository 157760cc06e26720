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
from installer.plan import API_VERSION, InstallPlan, _shown

# Bounds on what an answers file may cost to read: a real one is a few hundred bytes with a
# dozen keys. Past these, refuse with a message instead of hanging or eating memory.
MAX_FILE_BYTES = 256 * 1024
MAX_NODES = 20_000  # values after aliases are expanded (an alias bomb expands exponentially)
MAX_DEPTH = 32
MAX_PROBLEMS = 20  # problems listed in one error message


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _value in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in seen
        except TypeError:  # an unhashable key: let the constructor say so
            break
        if duplicate:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {_shown(key)} (the same key twice in one mapping)", mark
            )
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _check_size(data: Any, source: str) -> None:
    """Walk ``data`` as the validator will (shared alias targets once per use), giving up past
    ``MAX_NODES`` values or ``MAX_DEPTH`` levels: bounded time whatever the file holds."""
    count = 0
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise UsageError(
                f"{source}: holds more than {MAX_NODES} values once YAML aliases are expanded",
                "an answers file needs a few dozen values; remove the aliases (*name) and repeated data",
            )
        if depth > MAX_DEPTH:
            raise UsageError(f"{source}: nested more than {MAX_DEPTH} levels deep",
                             "an answers file is a few levels deep; start from `fabrix schema`")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for pair in value.items() for v in pair)
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


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
    """One line per problem: ``path: what is wrong`` plus the fix where we know it (at most
    ``MAX_PROBLEMS`` lines, every echoed value cut short)."""
    lines: list[str] = []
    errors = exc.errors(include_url=False)
    for err in errors[:MAX_PROBLEMS]:
        loc = tuple(err["loc"])
        where = ".".join(_shown(p, 60).strip("'") if not isinstance(p, int) else str(p) for p in loc) or "(top level)"
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
            lines.append(f"{where}: {_shown(err['input'])} is not allowed; use one of {expected}")
        elif kind == "literal_error" and loc == ("apiVersion",):
            lines.append(f"apiVersion: {_shown(err['input'])} is not supported; use {API_VERSION!r}")
        else:
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{where}: {msg[:300]}")
    if len(errors) > MAX_PROBLEMS:
        lines.append(f"… and {len(errors) - MAX_PROBLEMS} more problem(s)")
    return lines


def plan_from_dict(data: Any, source: str = "answers") -> InstallPlan:
    if not isinstance(data, dict):
        raise UsageError(
            f"{source}: expected a mapping of answers, found {type(data).__name__}",
            "start from `fabrix schema` or an answers file saved by the wizard",
        )
    if "apiVersion" not in data:
        raise UsageError(f"{source}: apiVersion is missing", f"add `apiVersion: {API_VERSION}` at the top")
    _check_size(data, source)
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
        with file.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise UsageError(f"answers file {file} is larger than {MAX_FILE_BYTES // 1024} KB",
                             "an answers file is a few hundred bytes; pass the right file")
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read answers file {file}: {str(exc)[:200]}", "pass a readable UTF-8 YAML file") from None
    return plan_from_dict(parse_yaml(text, str(file)), str(file))


def parse_yaml(text: str, source: str) -> Any:
    """Safe YAML with duplicate keys refused; every failure (syntax, a 5,000-digit or malformed
    ``!!int``, nesting too deep for the parser) is a ``UsageError`` naming the place."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise UsageError(
            f"{source}: not valid YAML{where}: {str(problem)[:300]}", "fix the YAML syntax (indentation, colons, quotes)"
        ) from None
    except RecursionError:
        raise UsageError(f"{source}: nested too deeply to read", "an answers file is a few levels deep") from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. !!int notanumber, int digits limit
        raise UsageError(f"{source}: a value cannot be read: {str(exc)[:200]}",
                         "write numbers as plain decimal numbers and drop explicit tags like !!int") from None


def dump_answers(plan: InstallPlan) -> str:
    return yaml.safe_dump(plan.to_answers_dict(), sort_keys=False, allow_unicode=True)


def save_answers(plan: InstallPlan, path: str | os.PathLike[str]) -> None:
    write_atomic(Path(path), dump_answers(plan).encode("utf-8"))
