"""The content layer: what a function's content is, described once, below catalog and versioning.

catalog.content imports only the catalog's models, and versioning builds on it, never on the
catalog's services (which build on versioning): no import cycle, at any depth of a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_content_layer_imports_only_the_catalog_s_models():
    ours = {
        name
        for name in _imports(Path(settings.BASE_DIR) / "catalog" / "content.py")
        if name.split(".")[0] in ("catalog", "versioning", "functions_ui")
    }
    assert ours == {"catalog.models"}


def test_versioning_never_imports_the_catalog_s_services():
    for path in (Path(settings.BASE_DIR) / "versioning").rglob("*.py"):
        if path.name == "benchmarks.py":
            continue  # a benchmark seeds whole functions, as a user of both apps would
        assert "catalog.services" not in _imports(path), path
