"""Evaluate the small subset of ARM template expressions the foundation uses for names, for a
given cloud: format, replace, concat, toLower, environment(), parameters() (defaults) and
variables() (literal values). Enough to ask "which DNS zone does this template create in Azure
Government?" without a deployment.

environment() values per cloud: ``installer.render.azure.api.ENVIRONMENT_SUFFIXES`` (ARM template
functions reference, environment(); ``az cloud show``).
"""

from __future__ import annotations

import re
from typing import Any

from installer.render.azure.api import ENVIRONMENT_SUFFIXES

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+)|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[(),.\[\]]))")


class ArmEval:
    def __init__(self, template: dict[str, Any], cloud: str) -> None:
        self.template = template
        self.cloud = cloud

    def value(self, raw: Any) -> Any:
        if isinstance(raw, str) and raw.startswith("[") and not raw.startswith("[["):
            return self.expr(raw[1:-1])
        return raw

    def expr(self, text: str) -> Any:
        tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                if text[pos:].strip() == "":
                    break
                raise ValueError(f"cannot read {text[pos:pos + 30]!r}")
            kind = m.lastgroup or ""
            tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.tokens, self.i = tokens, 0
        out = self._expr()
        assert self.i == len(self.tokens), text
        return out

    def _take(self) -> tuple[str, str]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _expr(self) -> Any:
        kind, tok = self._take()
        if kind == "str":
            value: Any = tok[1:-1].replace("''", "'")
        elif kind == "num":
            value = int(tok)
        elif kind == "ident":
            args: list[Any] = []
            assert self._take() == ("op", "("), tok
            while self._peek() != ("op", ")"):
                args.append(self._expr())
                if self._peek() == ("op", ","):
                    self._take()
            self._take()
            value = self._call(tok, args)
        else:
            raise ValueError(f"unexpected {tok!r}")
        while self._peek() in (("op", "."), ("op", "[")):
            _, op = self._take()
            if op == ".":
                value = value[self._take()[1]]
            else:
                key = self._expr()
                self._take()
                value = value[key]
        return value

    def _call(self, fn: str, args: list[Any]) -> Any:
        low = fn.lower()
        if low == "format":
            return re.sub(r"\{(\d+)\}", lambda m: str(args[int(m.group(1)) + 1]), args[0])
        if low == "replace":
            return str(args[0]).replace(args[1], args[2])
        if low == "concat":
            return "".join(map(str, args))
        if low == "tolower":
            return str(args[0]).lower()
        if low == "if":
            return args[1] if args[0] else args[2]
        if low in ("true", "false"):
            return low == "true"
        if low == "null":
            return None
        if low == "environment":
            return {"name": self.cloud, "suffixes": ENVIRONMENT_SUFFIXES[self.cloud]}
        if low == "parameters":
            return self.value(self.template["parameters"][args[0]]["defaultValue"])
        if low == "variables":
            return self.value(self.template["variables"][args[0]])
        if low == "resourceid":
            return "/".join(map(str, args))
        raise ValueError(f"the test evaluator does not know {fn}()")
