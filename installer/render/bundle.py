"""A rendered blueprint set: relative path → bytes. Pure data; writing it is one atomic step."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from installer.errors import UsageError
from installer.fsutil import write_atomic

# Files whose mode must be 0600 (they hold secret values); everything else is 0644.
PRIVATE_SUFFIXES = (".env",)
# Written into every folder a bundle is written to: says "fabrix wrote this" and lists the files,
# so a later render may replace them and refuses any other non-empty folder.
MARKER = ".fabrix-bundle"
MARKER_MAX_BYTES = 1_000_000
STAGING_PREFIX = ".fabrix-staging-"


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
        """Write this bundle into ``out_dir``, touching nothing outside it.

        Each file is staged inside ``out_dir`` and moved into place with one atomic rename, so a
        reader sees the old file or the new one. Files the previous fabrix bundle listed in its
        marker and this one no longer has are removed; anything else in the folder is left alone.
        No symbolic link is followed: a linked parent folder is refused, a linked file is replaced
        as a link. The marker is written last and lists the files (see ``read_marker``).
        """
        out_dir = Path(os.path.abspath(out_dir))
        if out_dir.is_symlink():
            raise BundleDirError(f"{out_dir} is a symbolic link; fabrix does not write through links")
        out_dir.mkdir(parents=True, exist_ok=True)
        previous = read_marker(out_dir) or []
        for leftover in out_dir.glob(f"{STAGING_PREFIX}*"):  # a write killed half-way
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(dir=out_dir, prefix=STAGING_PREFIX))
        try:
            for index, rel in enumerate(self):
                # Flat staging names: no folder inside staging can be a link planted by someone.
                staged = staging / str(index)
                fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if rel in self.private else 0o644)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(self.files[rel])
                    fh.flush()
                    os.fsync(fh.fileno())
                os.chmod(staged, 0o600 if rel in self.private else 0o644)
            for index, rel in enumerate(self):
                dest = _inside(out_dir, rel, create=True)
                if dest.is_dir() and not dest.is_symlink():
                    raise BundleDirError(f"{dest} is a folder where the bundle has the file {rel}")
                os.replace(staging / str(index), dest)
            for rel in sorted(set(previous) - set(self.files), reverse=True):
                _remove_stale(out_dir, rel)
            write_atomic(out_dir / MARKER, _marker_text(sorted(self.files)).encode("utf-8"))
        finally:
            shutil.rmtree(staging, ignore_errors=True)


class BundleDirError(UsageError):
    """The folder a bundle is written into cannot be used safely (a link, a file in the way)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "pass --out a new folder, or one a previous `fabrix render` wrote")


def _marker_text(files: list[str]) -> str:
    return json.dumps({"written_by": "fabrix", "kind": "bundle", "files": files}, indent=1) + "\n"


def read_marker(folder: Path) -> list[str] | None:
    """The files a previous fabrix bundle in ``folder`` lists, or None when it is not one."""
    marker = folder / MARKER
    try:
        if marker.is_symlink() or not marker.is_file() or marker.stat().st_size > MARKER_MAX_BYTES:
            return None
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("written_by") != "fabrix" or not isinstance(data.get("files"), list):
        return None
    files: list[str] = []
    for item in data["files"]:
        rel = PurePosixPath(item) if isinstance(item, str) else None
        if rel is not None and not rel.is_absolute() and ".." not in rel.parts and str(rel) not in ("", "."):
            files.append(str(rel))
    return files


def is_bundle_dir(folder: Path) -> bool:
    return read_marker(folder) is not None


def _inside(root: Path, rel: str, create: bool) -> Path:
    """``root/rel`` after checking no folder on the way is a link (or a file); creates folders."""
    here = root
    for part in PurePosixPath(rel).parts[:-1]:
        here = here / part
        if here.is_symlink():
            raise BundleDirError(f"{here} is a symbolic link; fabrix does not write through links")
        if here.exists() and not here.is_dir():
            raise BundleDirError(f"{here} is a file where the bundle needs a folder")
        if not here.exists():
            if not create:
                return root / rel
            here.mkdir(mode=0o755)
    return root / rel


def _remove_stale(root: Path, rel: str) -> None:
    """Remove a file the previous bundle wrote and this one does not; prune emptied folders."""
    try:
        path = _inside(root, rel, create=False)
    except BundleDirError:
        return  # a link or file on the way: not ours to follow
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    parent = path.parent
    while parent != root and root in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent
