"""The Azure foundation model: parameters, variables, resources and outputs, target-neutral.

``arm.py`` writes it as one flat ARM template (languageVersion 1.0, as Managed Applications
require); ``bicep.py`` writes it as ``main.bicep`` plus one module per concern.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from installer.render.azure.expr import Expr, Fmt, Param, Prop, ResId, ResName, ListKeys, Var, arm_value, walk_value


@dataclass
class ParamSpec:
    type: str  # string | int | bool | object | array
    description: str
    default: Any = None  # None: no default (the deployer must supply it)
    secure: bool = False
    allowed: list[Any] | None = None
    min_length: int | None = None
    max_length: int | None = None
    min_value: int | None = None
    max_value: int | None = None
    tier_value: bool = False  # written into every tier's .bicepparam


@dataclass
class VarSpec:
    type: str
    value: Any
    description: str


@dataclass(eq=False)
class Resource:
    symbol: str  # Bicep symbolic name; unique in the whole foundation
    type: str
    api: str
    name: Any  # the leaf name (str or Expr); children put their parent's name in front
    module: str
    body: dict[str, Any] = field(default_factory=dict)  # sku, kind, identity, properties, zones …
    parent: Resource | None = None
    scope: Resource | None = None  # extension resources (role assignments, diagnostic settings)
    location: Any = None  # Param('location'), 'global' or None (child / extension resources)
    tags: bool = True
    depends: list[Resource] = field(default_factory=list)
    comment: str = ""
    # Deployed only when this expression is true (ARM ``condition``, Bicep ``= if (…)``).
    condition: Any = None

    # ---- ARM spellings ----
    def name_segments(self) -> list[Any]:
        chain: list[Any] = []
        node: Resource | None = self
        while node is not None:
            chain.insert(0, node.name)
            node = node.parent
        return chain

    def arm_name(self) -> Any:
        """The full ARM name: ``parent/child`` for child resources."""
        segs = self.name_segments()
        if len(segs) == 1:
            return segs[0]
        if all(isinstance(s, str) for s in segs):
            return "/".join(segs)
        return Fmt("/".join("{%d}" % i for i in range(len(segs))), tuple(segs))

    def arm_id(self) -> str:
        if self.scope is not None:
            return (
                f"extensionResourceId({self.scope.arm_id()}, '{self.type}', "
                f"{arm_value(self.name)})"
            )
        segs = ", ".join(arm_value(s) for s in self.name_segments())
        return f"resourceId('{self.type}', {segs})"

    def expression_refs(self) -> list[Resource]:
        """Resources named in this one's expressions, plus parent and scope (need a symbol in Bicep)."""
        found: list[Resource] = []
        for node in walk_value([self.name, self.body]):
            if isinstance(node, (ResId, ResName, Prop, ListKeys)) and node.res not in found and node.res is not self:
                found.append(node.res)
        for res in (self.parent, self.scope):
            if res is not None and res not in found:
                found.append(res)
        return found

    def referenced(self) -> list[Resource]:
        """Resources this one needs deployed first: parent, scope, explicit and referenced ones."""
        found: list[Resource] = []
        for node in walk_value([self.name, self.body]):
            if isinstance(node, (ResId, ResName, Prop, ListKeys)):
                found.append(node.res)
        found += self.depends
        if self.parent is not None:
            found.append(self.parent)
        if self.scope is not None:
            found.append(self.scope)
        unique: list[Resource] = []
        for res in found:
            if res is not self and res not in unique:
                unique.append(res)
        return unique

    def names_used(self) -> tuple[set[str], set[str]]:
        """Parameter and variable names used in this resource's name, location and body."""
        params: set[str] = set()
        variables: set[str] = set()
        for node in walk_value([self.name_segments(), self.location, self.body, self.condition]):
            if isinstance(node, Param):
                params.add(node.name)
            elif isinstance(node, Var):
                variables.add(node.name)
        if self.tags:
            variables.add("tags")
        return params, variables


@dataclass
class OutputSpec:
    type: str
    value: Any
    description: str


@dataclass
class Foundation:
    """Everything the foundation deploys into one resource group."""

    install: str
    compute: str
    params: dict[str, ParamSpec] = field(default_factory=dict)
    variables: dict[str, VarSpec] = field(default_factory=dict)
    resources: list[Resource] = field(default_factory=list)
    outputs: dict[str, OutputSpec] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)  # module name → description, in order

    def add(self, res: Resource) -> Resource:
        if any(r.symbol == res.symbol for r in self.resources):
            raise ValueError(f"duplicate Bicep symbol {res.symbol}")
        if res.module not in self.modules:
            raise ValueError(f"{res.symbol}: unknown module {res.module}")
        self.resources.append(res)
        return res

    def by_module(self, module: str) -> list[Resource]:
        return [r for r in self.resources if r.module == module]


def expr_refs(value: Any) -> list[Expr]:
    return walk_value(value)
