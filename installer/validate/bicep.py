"""Bicep checks: every file parses (pycep-parser), the modules wire up, and the Bicep declares the
same resources as the ARM template — type, API version and name, resource by resource.

pycep is a syntax gate only (it cannot compile Bicep), so names are compared in a canonical form:
``parameters('x')``/``variables('x')`` in ARM and ``${x}`` in Bicep both become ``{x}``; ``format``
is applied; ``resourceId(type, a, b)`` and ``symbol.id`` both become ``id(type/a/b)``.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from pycep import BicepParser

# ---------- canonical names from ARM expressions ----------

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+)|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[(),.\[\]]))")


class _ArmParser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise ValueError(f"cannot read ARM expression at {text[pos:pos + 20]!r}")
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
            while pos < len(text) and text[pos].isspace():
                pos += 1
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expr(self) -> str:
        kind, value = self.take()
        if kind == "str":
            result = value[1:-1].replace("''", "'")
        elif kind == "num":
            result = value
        elif kind == "ident":
            args: list[str] = []
            if self.peek() == ("op", "("):
                self.take()
                while self.peek() != ("op", ")"):
                    args.append(self.expr())
                    if self.peek() == ("op", ","):
                        self.take()
                self.take()
            result = _apply(value, args)
        else:
            raise ValueError(f"unexpected {value!r}")
        while self.peek() == ("op", "."):
            self.take()
            result += "." + self.take()[1]
        return result


def _apply(fn: str, args: list[str]) -> str:
    low = fn.lower()
    if low in ("parameters", "variables"):
        return "{" + args[0] + "}"
    if low == "format":
        return re.sub(r"\{(\d+)\}", lambda m: args[int(m.group(1)) + 1], args[0])
    if low == "resourceid":
        rtype, *names = args
        return f"id({rtype}/{'/'.join(names)})"
    return f"{low}(" + ",".join(args) + ")"


def arm_canonical(value: Any) -> str:
    if isinstance(value, str) and value.startswith("[") and not value.startswith("[["):
        return _ArmParser(value[1:-1]).expr()
    return str(value)


# ---------- canonical names from pycep's Bicep JSON ----------

def _bicep_string(text: str) -> str:
    text = re.sub(r"(?<!\\)\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}", r"{\1}", text)
    # Other interpolations (``${environment().suffixes.storage}``) are function calls and property
    # reads spelled as in ARM: canonicalise them with the ARM expression reader.
    text = re.sub(r"(?<!\\)\$\{([^{}]*)\}", lambda m: _ArmParser(m.group(1)).expr(), text)
    return text.replace("\\'", "'").replace("\\$", "$").replace("\\\\", "\\")


@dataclass
class _Symbols:
    """Bicep symbols of one file: symbol → (type, canonical full name)."""

    table: dict[str, tuple[str, str]]


def _bicep_value(value: Any, symbols: _Symbols) -> str:
    if isinstance(value, str):
        return _bicep_string(value)
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dict) and "function" in value:
        fn = value["function"]
        args = [_bicep_value(a, symbols) for a in fn.get("parameters", {}).values() if a is not None]
        name = str(fn.get("type", "")).replace("_", "")
        if name == "resourceid":
            rtype, *names = args
            return f"id({rtype}/{'/'.join(names)})"
        return f"{name}(" + ",".join(args) + ")"
    if isinstance(value, dict) and "operator" in value:
        op = value["operator"]
        if op.get("type") == "property_accessor":
            left = op["operands"]["operand_1"]
            right = op["operands"]["operand_2"]
            if isinstance(left, str) and right == "id" and left in symbols.table:
                rtype, name = symbols.table[left]
                return f"id({rtype}/{name})"
            return f"{_bicep_value(left, symbols)}.{_bicep_value(right, symbols)}"
    return repr(value)


@dataclass(frozen=True)
class Declared:
    type: str
    api: str
    name: str
    where: str

    def key(self) -> tuple[str, str, str]:
        return (self.type.lower(), self.api, self.name)


_PARSE_LOCK = threading.Lock()


@cache
def _parser() -> BicepParser:
    """pycep's parser, built once per process: building it (Lark loading the grammar) used to cost
    as much as parsing, and it was built again for every file."""
    return BicepParser()


@lru_cache(maxsize=256)
def parse_bicep(text: str) -> dict[str, Any]:
    """pycep's JSON for one Bicep file (cached by text: parsing is the slow part; treat as read-only)."""
    with _PARSE_LOCK:  # one shared parser; the TUI may validate from more than one worker thread
        return dict(_parser().parse(text=text))


def bicep_resources(parsed: dict[str, Any], where: str) -> list[Declared]:
    """Resources a parsed Bicep file deploys (``existing`` ones are references, not deployments)."""
    resources: dict[str, Any] = parsed.get("resources", {}) or {}
    symbols = _Symbols({})
    pending = dict(resources)
    # Parents first: a child's full name starts with its parent's.
    for _ in range(len(pending) + 1):
        for sym, res in list(pending.items()):
            config = res.get("config", {})
            if "condition" in config and "config" in config:  # `= if (cond) { … }`: pycep nests the body
                config = config["config"]
            parent = config.get("parent")
            if parent is not None and parent not in symbols.table:
                continue
            leaf = _bicep_value(config.get("name"), symbols)
            full = f"{symbols.table[parent][1]}/{leaf}" if parent else leaf
            symbols.table[sym] = (res["type"], full)
            del pending[sym]
    if pending:
        raise ValueError(f"{where}: cannot resolve the parents of {', '.join(sorted(pending))}")
    return [
        Declared(res["type"], res["api_version"], symbols.table[sym][1], f"{where}:{sym}")
        for sym, res in resources.items()
        if not res.get("existing")
    ]


def arm_resources(template: dict[str, Any]) -> list[Declared]:
    return [
        Declared(r["type"], r["apiVersion"], arm_canonical(r["name"]), f"arm:{arm_canonical(r['name'])}")
        for r in template.get("resources", [])
    ]


def parity(bicep: list[Declared], arm: list[Declared]) -> list[str]:
    """Differences between the Bicep and ARM resource lists (empty when they agree)."""
    b = Counter(d.key() for d in bicep)
    a = Counter(d.key() for d in arm)
    out = []
    for key in sorted((b - a).keys()):
        out.append(f"in Bicep but not in the ARM template: {key[0]}@{key[1]} {key[2]}")
    for key in sorted((a - b).keys()):
        out.append(f"in the ARM template but not in Bicep: {key[0]}@{key[1]} {key[2]}")
    return out


def module_wiring(main: dict[str, Any], modules: dict[str, dict[str, Any]]) -> list[str]:
    """Every module main.bicep uses exists, gets every parameter it requires and no unknown ones."""
    out = []
    used: set[str] = set()
    for sym, mod in (main.get("modules") or {}).items():
        path = mod.get("detail", {}).get("path", "")
        used.add(path)
        if path not in modules:
            out.append(f"module {sym}: {path} does not exist")
            continue
        declared = modules[path].get("parameters", {}) or {}
        given = set((mod.get("config", {}).get("params") or {}).keys())
        for name in sorted(given - set(declared)):
            out.append(f"module {sym}: passes {name!r}, which {path} does not declare")
        for name, spec in declared.items():
            if spec.get("default") is None and name not in given:
                out.append(f"module {sym}: {path} requires {name!r}, which main.bicep does not pass")
    for path in sorted(set(modules) - used):
        out.append(f"{path} is not used by main.bicep")
    return out


_PARAM_LINE = re.compile(r"^param\s+([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+)$")


def check_bicepparam(text: str, main: dict[str, Any]) -> list[str]:
    """A .bicepparam file: ``using`` main.bicep, known parameters, every required one set, secrets from env."""
    out = []
    params = main.get("parameters", {}) or {}
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("//")]
    if not lines or lines[0] != "using '../main.bicep'":
        out.append("first statement must be: using '../main.bicep'")
    given: dict[str, str] = {}
    for line in lines[1:]:
        m = _PARAM_LINE.match(line)
        if not m:
            out.append(f"cannot read line {line!r}")
            continue
        given[m.group(1)] = m.group(2)
    for name, value in given.items():
        if name not in params:
            out.append(f"param {name!r} is not a parameter of main.bicep")
            continue
        secure = any(d.get("type") == "secure" for d in params[name].get("decorators", []))
        if secure and not value.startswith("readEnvironmentVariable("):
            out.append(f"secure param {name!r} must come from readEnvironmentVariable(), never a literal")
    for name, spec in params.items():
        if spec.get("default") is None and name not in given:
            out.append(f"required param {name!r} is not set")
    return out
