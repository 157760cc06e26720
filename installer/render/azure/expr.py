"""A tiny expression language with two spellings: ARM template expressions and Bicep.

Property values in the model are plain JSON data (str, int, bool, list, dict) or ``Expr`` nodes.
Each node renders to an ARM expression body (without the surrounding ``[ ]``) and to Bicep.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from installer.render.azure.model import Resource


class Expr:
    def arm(self) -> str:
        raise NotImplementedError

    def bicep(self, ctx: BicepContext) -> str:
        raise NotImplementedError

    def refs(self) -> list[Expr]:
        """Every node in this expression (self first), for dependency and usage analysis."""
        return [self]


class BicepContext:
    """Where a Bicep expression is written: which resources are declared in this file (symbols)."""

    def __init__(self, local: dict[int, str], existing: dict[int, str]) -> None:
        self.local = local  # id(resource) -> symbol declared (or referenced as existing) here
        self.existing = existing

    def symbol(self, res: Resource) -> str:
        key = id(res)
        if key in self.local:
            return self.local[key]
        if key in self.existing:
            return self.existing[key]
        raise KeyError(f"{res.symbol} is not declared in this Bicep file")


def arm_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def bicep_string(value: str) -> str:
    body = value.replace("\\", "\\\\").replace("'", "\\'").replace("${", "\\${").replace("\n", "\\n")
    return "'" + body + "'"


def arm_value(value: Any) -> str:
    """An argument inside an ARM expression."""
    if isinstance(value, Expr):
        return value.arm()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return arm_literal(value)
    raise TypeError(f"cannot use {value!r} inside an ARM expression")


def bicep_value(value: Any, ctx: BicepContext) -> str:
    if isinstance(value, Expr):
        return value.bicep(ctx)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return bicep_string(value)
    raise TypeError(f"cannot use {value!r} inside a Bicep expression")


def _walk(values: tuple[Any, ...]) -> list[Expr]:
    out: list[Expr] = []
    for v in values:
        if isinstance(v, Expr):
            out.extend(v.refs())
    return out


@dataclass(frozen=True, eq=False)
class Param(Expr):
    name: str

    def arm(self) -> str:
        return f"parameters('{self.name}')"

    def bicep(self, ctx: BicepContext) -> str:
        return self.name


@dataclass(frozen=True, eq=False)
class Var(Expr):
    name: str

    def arm(self) -> str:
        return f"variables('{self.name}')"

    def bicep(self, ctx: BicepContext) -> str:
        return self.name


@dataclass(frozen=True, eq=False)
class Fmt(Expr):
    """``format('{0}-kv-{1}', a, b)`` in ARM, ``'${a}-kv-${b}'`` in Bicep."""

    template: str
    args: tuple[Any, ...]

    def arm(self) -> str:
        return "format(" + ", ".join([arm_literal(self.template), *map(arm_value, self.args)]) + ")"

    def bicep(self, ctx: BicepContext) -> str:
        parts = re.split(r"\{(\d+)\}", self.template)
        out = ""
        for i, part in enumerate(parts):
            if i % 2 == 0:
                out += bicep_string(part)[1:-1]
            else:
                arg = self.args[int(part)]
                if isinstance(arg, str):
                    out += bicep_string(arg)[1:-1]
                else:
                    out += "${" + bicep_value(arg, ctx) + "}"
        return "'" + out + "'"

    def refs(self) -> list[Expr]:
        return [self, *_walk(self.args)]


@dataclass(frozen=True, eq=False)
class Call(Expr):
    """A function both languages spell the same: ``guid(...)``, ``take(...)``, ``uniqueString(...)``."""

    fn: str
    args: tuple[Any, ...] = ()

    def arm(self) -> str:
        return f"{self.fn}(" + ", ".join(map(arm_value, self.args)) + ")"

    def bicep(self, ctx: BicepContext) -> str:
        return f"{self.fn}(" + ", ".join(bicep_value(a, ctx) for a in self.args) + ")"

    def refs(self) -> list[Expr]:
        return [self, *_walk(self.args)]


@dataclass(frozen=True, eq=False)
class Raw(Expr):
    """The same text in both languages, e.g. ``resourceGroup().location``, ``subscription().tenantId``."""

    text: str

    def arm(self) -> str:
        return self.text

    def bicep(self, ctx: BicepContext) -> str:
        return self.text


@dataclass(frozen=True, eq=False)
class ResId(Expr):
    """A resource id: ``resourceId(type, name…)`` in ARM, ``symbol.id`` in Bicep."""

    res: Resource

    def arm(self) -> str:
        return self.res.arm_id()

    def bicep(self, ctx: BicepContext) -> str:
        return f"{ctx.symbol(self.res)}.id"

    def refs(self) -> list[Expr]:
        return [self]


@dataclass(frozen=True, eq=False)
class ResName(Expr):
    """A resource's name (as deployed): the name expression in ARM, ``symbol.name`` in Bicep."""

    res: Resource

    def arm(self) -> str:
        return arm_value(self.res.arm_name())

    def bicep(self, ctx: BicepContext) -> str:
        return f"{ctx.symbol(self.res)}.name"

    def refs(self) -> list[Expr]:
        return [self]


@dataclass(frozen=True, eq=False)
class Prop(Expr):
    """A runtime property: ``reference(id, api).x.y`` in ARM, ``symbol.properties.x.y`` in Bicep.

    ``path`` starts below ``properties`` unless ``full`` (then it is e.g. ``identity.principalId``).
    """

    res: Resource
    path: str
    full: bool = False

    def arm(self) -> str:
        if self.full:
            return f"reference({self.res.arm_id()}, '{self.res.api}', 'full').{self.path}"
        return f"reference({self.res.arm_id()}, '{self.res.api}').{self.path}"

    def bicep(self, ctx: BicepContext) -> str:
        sym = ctx.symbol(self.res)
        return f"{sym}.{self.path}" if self.full else f"{sym}.properties.{self.path}"

    def refs(self) -> list[Expr]:
        return [self]


@dataclass(frozen=True, eq=False)
class ListKeys(Expr):
    """``listKeys(id, api).path`` in ARM, ``symbol.listKeys().path`` in Bicep (values stay in the deployment)."""

    res: Resource
    path: str

    def arm(self) -> str:
        return f"listKeys({self.res.arm_id()}, '{self.res.api}').{self.path}"

    def bicep(self, ctx: BicepContext) -> str:
        return f"{ctx.symbol(self.res)}.listKeys().{self.path}"

    def refs(self) -> list[Expr]:
        return [self]


@dataclass(frozen=True, eq=False)
class TrueOrNull(Expr):
    """``true`` when the condition holds, else the property is left out (null): for switches the
    API accepts only as true, such as Key Vault's irreversible enablePurgeProtection."""

    cond: Expr

    def arm(self) -> str:
        return f"if({self.cond.arm()}, true(), null())"

    def bicep(self, ctx: BicepContext) -> str:
        return f"{self.cond.bicep(ctx)} ? true : null"

    def refs(self) -> list[Expr]:
        return [self, *self.cond.refs()]


class ExprKey(str):
    """A dict key that is an expression (``userAssignedIdentities: {'<id>': {}}``)."""

    expr: Expr

    def __new__(cls, expr: Expr) -> ExprKey:
        obj = super().__new__(cls, "[" + expr.arm() + "]")
        obj.expr = expr
        return obj


class Decimal(float):
    """A fractional number: plain JSON in ARM, ``json('0.5')`` in Bicep (Bicep has no decimal literals)."""


def walk_value(value: Any) -> list[Expr]:
    """Every expression node inside a JSON-ish value."""
    out: list[Expr] = []
    if isinstance(value, Expr):
        out.extend(value.refs())
    elif isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, ExprKey):
                out.extend(k.expr.refs())
            out.extend(walk_value(v))
    elif isinstance(value, (list, tuple)):
        for v in value:
            out.extend(walk_value(v))
    return out


def to_arm(value: Any) -> Any:
    """A JSON-ish value with expressions turned into ``"[...]"`` strings."""
    if isinstance(value, Expr):
        return f"[{value.arm()}]"
    if isinstance(value, dict):
        return {str(k): to_arm(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_arm(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str) and value.startswith("["):
        return "[" + value  # ARM escapes a literal leading bracket by doubling it
    return value


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def bicep_key(key: str) -> str:
    return key if _IDENT.match(key) else bicep_string(key)


def to_bicep(value: Any, ctx: BicepContext, indent: int = 0) -> str:
    """A JSON-ish value as Bicep source (objects and arrays one item per line)."""
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        lines = ["{"]
        for k, v in value.items():
            key = k.expr.bicep(ctx) if isinstance(k, ExprKey) else bicep_key(k)
            if isinstance(k, ExprKey) and not key.startswith("'"):
                key = "'${" + key + "}'"
            lines.append(f"{pad}  {key}: {to_bicep(v, ctx, indent + 1)}")
        lines.append(pad + "}")
        return "\n".join(lines)
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        lines = ["["]
        for v in value:
            lines.append(f"{pad}  {to_bicep(v, ctx, indent + 1)}")
        lines.append(pad + "]")
        return "\n".join(lines)
    if value is None:
        return "null"
    if isinstance(value, Decimal):
        return f"json('{float(value):g}')"
    return bicep_value(value, ctx)
