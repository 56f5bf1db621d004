"""Print the dependencies pyproject.toml declares (with its dev extras), one per line.

`make` installs these into .venv rather than installing the project itself, so that no build
metadata (an .egg-info folder) lands beside the code.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path


def requirements(pyproject: Path, extras: list[str]) -> list[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    optional = project.get("optional-dependencies", {})
    return [*project["dependencies"], *(dep for extra in extras for dep in optional[extra])]


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[2]
    sys.stdout.write("\n".join(requirements(root / "pyproject.toml", sys.argv[1:])) + "\n")
