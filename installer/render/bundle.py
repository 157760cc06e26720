"""A rendered blueprint set: relative path → bytes. Pure data; writing it is one atomic step."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

# Files whose mode must be 0600 (they hold secret values); everything else is 0644.
PRIVATE_SUFFIXES = (".env",)


@dataclass
class Bundle:
    files: dict[str, bytes] = field(default_factory=dict)
    # Paths (relative) that must be written with mode 0600.
    private: set[str] = field(default_factory=set)

    def add(self, path: str, content: str | bytes, private: bool = False) -> None:
        rel = PurePosixPath(path)
        if rel.is_absolute() or ".." in rel.parts:
            raise ValueError(f"bundle path must be relative and inside the bundle: {path}")
        self.files[str(rel)] = content.encode("utf-8") if isinstance(content, str) else content
        if private:
            self.private.add(str(rel))

    def merge(self, other: Bundle, prefix: str = "") -> None:
        for path, data in other.files.items():
            self.add(f"{prefix}{path}", data, private=path in other.private)

    def subtree(self, prefix: str) -> Bundle:
        """The files under ``prefix`` (e.g. one target of a multi-target render), prefix removed."""
        part = Bundle()
        for path, data in self.files.items():
            if path.startswith(prefix):
                part.add(path[len(prefix) :], data, private=path in self.private)
        return part

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.files))

    def __len__(self) -> int:
        return len(self.files)

    def text(self, path: str) -> str:
        return self.files[path].decode("utf-8")

    def digests(self) -> Mapping[str, str]:
        return {p: hashlib.sha256(self.files[p]).hexdigest() for p in self}

    def write(self, out_dir: Path) -> None:
        """Replace ``out_dir`` with this bundle, atomically: a crash leaves the old one or the new one."""
        out_dir = out_dir.resolve()
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}."))
        try:
            for rel in self:
                target = staging / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(self.files[rel])
                os.chmod(target, 0o600 if rel in self.private else 0o644)
            if out_dir.exists():
                old = out_dir.with_name(f".{out_dir.name}.old")
                shutil.rmtree(old, ignore_errors=True)
                os.replace(out_dir, old)
                os.replace(staging, out_dir)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(staging, out_dir)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
