"""A small evaluator of ARM template expressions, written for the fake ARM only.

It is deliberately independent of ``installer.render.azure.expr`` (which *writes* expressions): the
fake must read a submitted template the way ARM does, so a renderer bug cannot hide behind a shared
implementation. Covered: string literals (``''`` escapes), numbers, function calls, property and
index access, ``[[`` escapes; the functions templates use (see ``FUNCTIONS``).

Facts used (sources):
- function semantics: MicrosoftDocs/azure-docs ``articles/azure-resource-manager/templates/
  template-functions-{string,resource,scope,array,logical,comparison}.md``;
- ``uniqueString``: 64-bit MurmurHash variant over the arguments joined with ``-``, first 13
  base-32 characters (a-z2-7) of the hash, most significant bits first — constants and five test
  vectors from a public pure-bash re-implementation checked against Bicep (all five pass here). One
  more vector found in a public test (a 136-byte resource id, an exact multiple of 8 bytes) does
  not match, so inputs whose length is a multiple of 8 may differ from real ARM (unverified); the
  fake only needs a deterministic 13-character value;
- ``guid``: a name-based (v5) UUID of the arguments joined with ``-`` (unverified against ARM; the
  fake only needs it deterministic and unique).
"""

from __future__ import annotations

import re
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from installer.render.azure.api import ENVIRONMENT_SUFFIXES


class TemplateError(Exception):
    """An expression ARM would reject (``InvalidTemplate``)."""


@dataclass
class Scope:
    subscription_id: str
    resource_group: str
    location: str
    parameters: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)  # raw (unevaluated) variable values
    deployment_name: str = ""
    tenant_id: str = ""
    # reference(id) / list*(id): the fake answers these from its deployed resources.
    reference: Callable[[str], dict[str, Any]] | None = None
    list_keys: Callable[[str], dict[str, Any]] | None = None
    copy_index: int | None = None
    _var_cache: dict[str, Any] = field(default_factory=dict)


# ---- tokenizer / parser ------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<str>'(?:[^']|'')*')|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[(),\[\]]))")


@dataclass
class _Call:
    name: str
    args: list[Any]


@dataclass
class _Access:
    target: Any
    key: Any  # str (property) or node (index)


@dataclass
class _Lit:
    value: Any


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens_with_dots(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise TemplateError(f"The template language expression '{self.text}' is not valid: expected '{value}'.")
        self.i += 1
        return tok

    def parse(self) -> Any:
        node = self.expr()
        if self.peek() is not None:
            raise TemplateError(f"The template language expression '{self.text}' is not valid: unexpected '{self.peek()[1]}'.")  # type: ignore[index]
        return node

    def expr(self) -> Any:
        kind, value = self.take()
        if kind == "num":
            node: Any = _Lit(float(value) if "." in value else int(value))
        elif kind == "str":
            node = _Lit(value[1:-1].replace("''", "'"))
        elif kind == "name":
            # ``name.prop`` after a call is tokenized as one name; a bare name must be a call.
            self.take("(")
            args: list[Any] = []
            if self.peek() and self.peek()[1] != ")":  # type: ignore[index]
                args.append(self.expr())
                while self.peek() and self.peek()[1] == ",":  # type: ignore[index]
                    self.take(",")
                    args.append(self.expr())
            self.take(")")
            node = _Call(value, args)
        else:
            raise TemplateError(f"The template language expression '{self.text}' is not valid: unexpected '{value}'.")
        while self.peek() is not None:
            kind, value = self.peek()  # type: ignore[misc]
            if value == "[":
                self.take("[")
                key = self.expr()
                self.take("]")
                node = _Access(node, key)
            elif kind == "name" and value.startswith("."):
                self.take()
                for part in value[1:].split("."):
                    node = _Access(node, _Lit(part))
            else:
                break
        return node


_TOKEN_DOT = re.compile(r"\s*(?P<name>\.[A-Za-z_][A-Za-z0-9_.]*)")


def _tokens_with_dots(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN_DOT.match(text, pos) or _TOKEN.match(text, pos)
        if not m:
            raise TemplateError(f"The template language expression '{text}' is not valid: unexpected character at position {pos}.")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def parse(text: str) -> Any:
    return _Parser(text).parse()


# ---- evaluation --------------------------------------------------------------------------------


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("[") and value.endswith("]") and not value.startswith("[[")


def evaluate(value: Any, scope: Scope) -> Any:
    """Evaluate every expression inside ``value`` (a template fragment: str, list, dict, scalar)."""
    if isinstance(value, str):
        if value.startswith("[["):
            return value[1:]
        if is_expression(value):
            return _eval(parse(value[1:-1]), scope)
        return value
    if isinstance(value, list):
        return [evaluate(v, scope) for v in value]
    if isinstance(value, dict):
        return {k: evaluate(v, scope) for k, v in value.items()}
    return value


def _eval(node: Any, scope: Scope) -> Any:
    if isinstance(node, _Lit):
        return node.value
    if isinstance(node, _Access):
        target = _eval(node.target, scope)
        key = _eval(node.key, scope)
        try:
            if isinstance(target, list):
                return target[int(key)]
            if isinstance(target, dict):
                for k, v in target.items():  # ARM property access is case-insensitive
                    if k.lower() == str(key).lower():
                        return v
            raise KeyError(key)
        except (KeyError, IndexError, ValueError, TypeError):
            raise TemplateError(f"The language expression property '{key}' doesn't exist, available properties are '{', '.join(target) if isinstance(target, dict) else ''}'.") from None
    assert isinstance(node, _Call)
    fn = FUNCTIONS.get(node.name.lower())
    if fn is None:
        raise TemplateError(f"The template function '{node.name}' is not valid. Please see https://aka.ms/arm-functions for usage details.")
    if node.name.lower() == "if":  # lazy: only the chosen branch is evaluated
        cond = _eval(node.args[0], scope)
        return _eval(node.args[1] if cond else node.args[2], scope)
    return fn(scope, *[_eval(a, scope) for a in node.args])


def _parameter(scope: Scope, name: str) -> Any:
    for k, v in scope.parameters.items():
        if k.lower() == name.lower():
            return v
    raise TemplateError(f"The template parameter '{name}' is not found. Please see https://aka.ms/arm-syntax-parameters for usage details.")


def _variable(scope: Scope, name: str) -> Any:
    key = name.lower()
    if key in scope._var_cache:
        return scope._var_cache[key]
    for k, v in scope.variables.items():
        if k.lower() == key:
            scope._var_cache[key] = evaluate(v, scope)
            return scope._var_cache[key]
    raise TemplateError(f"The template variable '{name}' is not found. Please see https://aka.ms/arm-syntax-variables for usage details.")


def _join_id(prefix: str, rtype: str, names: tuple[str, ...]) -> str:
    parts = rtype.split("/")
    ns, types = parts[0], parts[1:]
    if len(types) != len(names):
        raise TemplateError(
            f"Unable to evaluate template language function 'resourceId': function requires exactly one "
            f"name segment per type segment of '{rtype}' ({len(types)}), got {len(names)}."
        )
    tail = "/".join(f"{t}/{n}" for t, n in zip(types, names))
    return f"{prefix}/providers/{ns}/{tail}"


_GUID_RE = re.compile(r"^[0-9a-fA-F-]{36}$")


def _resource_id(scope: Scope, *args: str) -> str:
    args = tuple(str(a) for a in args)
    sub, rg = scope.subscription_id, scope.resource_group
    # resourceId([subscriptionId], [resourceGroupName], resourceType, name1, ...)
    type_at = next((i for i, a in enumerate(args) if "/" in a and "." in a.split("/")[0]), None)
    if type_at is None:
        raise TemplateError(f"Unable to evaluate template language function 'resourceId': no resource type in {list(args)}.")
    before = args[:type_at]
    if len(before) == 2:
        sub, rg = before
    elif len(before) == 1:
        if _GUID_RE.match(before[0]):
            sub = before[0]
        else:
            rg = before[0]
    return _join_id(f"/subscriptions/{sub}/resourceGroups/{rg}", args[type_at], args[type_at + 1 :])


def _subscription_resource_id(scope: Scope, *args: str) -> str:
    args = tuple(str(a) for a in args)
    sub = scope.subscription_id
    if args and _GUID_RE.match(args[0]):
        sub, args = args[0], args[1:]
    return _join_id(f"/subscriptions/{sub}", args[0], args[1:])


def _extension_resource_id(scope: Scope, base: str, rtype: str, *names: str) -> str:
    return _join_id(str(base), rtype, tuple(str(n) for n in names))


def unique_string(*values: str) -> str:
    """ARM's ``uniqueString``: 13 base-32 characters of a 64-bit MurmurHash of the joined values."""
    data = "-".join(values).encode("utf-8")
    m32 = 0xFFFFFFFF
    c1, c2, c3, c4 = 0xAB0E9789, 0x239B961B, 0x85EBCA6B, 0xC2B2AE35

    def rotl(x: int, r: int) -> int:
        x &= m32
        return ((x << r) | (x >> (32 - r))) & m32

    h1 = h2 = 0
    n = len(data)
    i = 0
    while i + 8 <= n:
        k1 = int.from_bytes(data[i : i + 4], "little")
        k2 = int.from_bytes(data[i + 4 : i + 8], "little")
        h1 ^= rotl(k1 * c2, 15) * c1 & m32
        h1 = (rotl(h1, 19) + h2) & m32
        h1 = (h1 * 5 + 0x561CCD1B) & m32
        h2 ^= rotl(k2 * c1, 17) * c2 & m32
        h2 = (rotl(h2, 13) + h1) & m32
        h2 = (h2 * 5 + 0x0BCAA747) & m32
        i += 8
    rest = data[i:]
    if rest:
        k1 = int.from_bytes(rest[:4], "little")
        h1 ^= rotl(k1 * c2, 15) * c1 & m32
        if len(rest) > 4:
            k2 = int.from_bytes(rest[4:], "little")
            h2 ^= rotl(k2 * c1, 17) * c2 & m32

    def fmix(x: int) -> int:
        x = ((x ^ (x >> 16)) * c3) & m32
        x = ((x ^ (x >> 13)) * c4) & m32
        return x ^ (x >> 16)

    r0 = (h2 ^ n) & m32
    r1 = ((h1 ^ n) + r0) & m32
    r2 = (r0 + r1) & m32
    r1, r2 = fmix(r1), fmix(r2)
    r1 = (r1 + r2) & m32
    r2 = (r2 + r1) & m32
    h = (r2 << 32) | r1
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    out = []
    for _ in range(13):  # 13 x 5 bits: the last character takes the low 4 bits, shifted in a zero
        out.append(alphabet[(h >> 59) & 31])
        h = (h << 5) & 0xFFFFFFFFFFFFFFFF
    return "".join(out)


_GUID_NAMESPACE = uuid.UUID("11fb06fb-712d-4ddd-98c7-e71bbd588830")


def _guid(scope: Scope, *values: Any) -> str:
    return str(uuid.uuid5(_GUID_NAMESPACE, "-".join(str(v) for v in values)))


def _format(scope: Scope, fmt: str, *args: Any) -> str:
    def sub(m: re.Match[str]) -> str:
        value = args[int(m.group(1))]
        if isinstance(value, bool):
            return "True" if value else "False"
        return str(value)

    return re.sub(r"\{(\d+)(?::[^}]*)?\}", sub, fmt)


def _concat(scope: Scope, *args: Any) -> Any:
    if args and all(isinstance(a, list) for a in args):
        return [x for a in args for x in a]
    return "".join(str(a).lower() if isinstance(a, bool) else str(a) for a in args)


def _take(scope: Scope, value: Any, n: int) -> Any:
    return value[: max(int(n), 0)]


def _skip(scope: Scope, value: Any, n: int) -> Any:
    return value[max(int(n), 0) :]


def _reference(scope: Scope, rid: str, api: str | None = None, full: str | None = None) -> Any:
    if scope.reference is None:
        raise TemplateError("The template function 'reference' is not expected at this location.")
    res = scope.reference(str(rid))
    return res if (full or "").lower() == "full" else res.get("properties", {})


def _list_keys(scope: Scope, rid: str, api: str | None = None) -> Any:
    if scope.list_keys is None:
        raise TemplateError("The template function 'listKeys' is not expected at this location.")
    return scope.list_keys(str(rid))


def _copy_index(scope: Scope, *args: Any) -> int:
    if scope.copy_index is None:
        raise TemplateError("The template function 'copyIndex' is not expected at this location.")
    offset = next((a for a in args if isinstance(a, int)), 0)
    return scope.copy_index + offset


def _equals(scope: Scope, a: Any, b: Any) -> bool:
    return a == b


def _contains(scope: Scope, container: Any, item: Any) -> bool:
    if isinstance(container, str):
        return str(item) in container
    if isinstance(container, dict):
        return any(k.lower() == str(item).lower() for k in container)
    return item in container


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "parameters": _parameter,
    "variables": _variable,
    "concat": _concat,
    "format": _format,
    "uniquestring": lambda s, *v: unique_string(*[str(x) for x in v]),
    "guid": _guid,
    "tolower": lambda s, v: str(v).lower(),
    # ARM uriComponent: encodeURIComponent (only A-Z a-z 0-9 - _ . ! ~ * ' ( ) stay as they are).
    "uricomponent": lambda s, v: urllib.parse.quote(str(v), safe="-_.!~*'()"),
    "toupper": lambda s, v: str(v).upper(),
    "take": _take,
    "skip": _skip,
    "substring": lambda s, v, start, length=None: str(v)[int(start) :] if length is None else str(v)[int(start) : int(start) + int(length)],
    "replace": lambda s, v, old, new: str(v).replace(str(old), str(new)),
    "length": lambda s, v: len(v),
    "string": lambda s, v: v if isinstance(v, str) else ("true" if v is True else "false" if v is False else str(v)),
    "int": lambda s, v: int(v),
    "bool": lambda s, v: v if isinstance(v, bool) else str(v).lower() == "true",
    "true": lambda s: True,
    "false": lambda s: False,
    "null": lambda s: None,
    "not": lambda s, v: not v,
    "and": lambda s, *v: all(v),
    "or": lambda s, *v: any(v),
    "if": lambda s, c, a, b: a if c else b,  # replaced by the lazy form in _eval
    "equals": _equals,
    "empty": lambda s, v: not v,
    "contains": _contains,
    "coalesce": lambda s, *v: next((x for x in v if x is not None), None),
    "array": lambda s, v: v if isinstance(v, list) else [v],
    "createarray": lambda s, *v: list(v),
    "createobject": lambda s, *kv: {str(kv[i]): kv[i + 1] for i in range(0, len(kv), 2)},
    "union": lambda s, *v: ({k: x for d in v for k, x in d.items()} if all(isinstance(d, dict) for d in v) else list(dict.fromkeys(y for d in v for y in d))),
    "first": lambda s, v: v[0],
    "last": lambda s, v: v[-1],
    "split": lambda s, v, sep: str(v).split(sep) if isinstance(sep, str) else re.split("|".join(map(re.escape, sep)), str(v)),
    "join": lambda s, v, sep: str(sep).join(str(x) for x in v),
    "startswith": lambda s, v, p: str(v).lower().startswith(str(p).lower()),
    "endswith": lambda s, v, p: str(v).lower().endswith(str(p).lower()),
    "trim": lambda s, v: str(v).strip(),
    "add": lambda s, a, b: a + b,
    "sub": lambda s, a, b: a - b,
    "mul": lambda s, a, b: a * b,
    "div": lambda s, a, b: int(a / b),
    "mod": lambda s, a, b: a % b,
    "min": lambda s, *v: min(v[0] if len(v) == 1 and isinstance(v[0], list) else v),
    "max": lambda s, *v: max(v[0] if len(v) == 1 and isinstance(v[0], list) else v),
    "greater": lambda s, a, b: a > b,
    "less": lambda s, a, b: a < b,
    "greaterorequals": lambda s, a, b: a >= b,
    "lessorequals": lambda s, a, b: a <= b,
    "resourceid": _resource_id,
    "subscriptionresourceid": _subscription_resource_id,
    "extensionresourceid": _extension_resource_id,
    "tenantresourceid": lambda s, rtype, *names: _join_id("", rtype, tuple(str(n) for n in names)),
    "resourcegroup": lambda s: {
        "id": f"/subscriptions/{s.subscription_id}/resourceGroups/{s.resource_group}",
        "name": s.resource_group,
        "type": "Microsoft.Resources/resourceGroups",
        "location": s.location,
        "properties": {"provisioningState": "Succeeded"},
    },
    "subscription": lambda s: {
        "id": f"/subscriptions/{s.subscription_id}",
        "subscriptionId": s.subscription_id,
        "tenantId": s.tenant_id,
        "displayName": "subscription",
    },
    "tenant": lambda s: {"tenantId": s.tenant_id},
    "deployment": lambda s: {"name": s.deployment_name, "properties": {}},
    # Azure public cloud's environment() (installer.render.azure.api.ENVIRONMENT_SUFFIXES).
    "environment": lambda s: {"name": "AzureCloud", "suffixes": dict(ENVIRONMENT_SUFFIXES["AzureCloud"])},
    "reference": _reference,
    "listkeys": _list_keys,
    "copyindex": _copy_index,
    "base64": lambda s, v: __import__("base64").b64encode(str(v).encode()).decode(),
    "utcnow": lambda s, fmt=None: "20260101T000000Z",
}
