"""Find the shipped ``blueprints/`` and ``assets/`` folders, in a checkout or an installed wheel.

In a checkout they sit beside the ``installer`` package; the wheel carries them inside it as
``installer/_data`` (see ``pyproject.toml``). One resolver serves both so nothing else guesses.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def _data_root() -> Path:
    installed = _PACKAGE_DIR / "_data"
    if (installed / "assets").is_dir():
        return installed
    checkout = _PACKAGE_DIR.parent
    if (checkout / "assets").is_dir():
        return checkout
    raise RuntimeError(
        f"fabrix data folders not found next to {_PACKAGE_DIR}: reinstall fabrix (pip install .)"
    )


def assets_dir() -> Path:
    return _data_root() / "assets"


def blueprints_dir() -> Path:
    return _data_root() / "blueprints"


def asset(relative: str) -> Path:
    return assets_dir() / relative
