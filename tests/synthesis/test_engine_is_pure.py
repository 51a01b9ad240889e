"""The statistics engine must stay free of Django (and of any I/O framework)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import synthesis.stats

STATS_DIR = Path(synthesis.stats.__file__).resolve().parent
REPO = STATS_DIR.parent.parent


def test_it_imports_without_loading_django():
    code = (
        "import sys; import synthesis.stats; "
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')); "
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_it_has_no_django_import_in_any_module():
    offenders = []
    for path in sorted(STATS_DIR.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "django"]
    assert offenders == []
