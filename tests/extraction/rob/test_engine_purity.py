"""The risk-of-bias engine is pure: it imports nothing outside the standard library."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import extraction.rob.engine

ENGINE_DIR = Path(extraction.rob.engine.__file__).resolve().parent
REPO = ENGINE_DIR.parents[2]


def test_every_import_of_the_engine_is_stdlib_or_the_engine_itself():
    offenders = []
    for path in sorted(ENGINE_DIR.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level == 1:  # from .base import ...: inside the engine
                    continue
                names = [node.module or ""] if node.level == 0 else [f"level {node.level}"]
            else:
                continue
            offenders += [
                f"{path.name}: {n}" for n in names if n.split(".")[0] not in sys.stdlib_module_names
            ]
    assert offenders == []


def test_importing_it_loads_no_module_outside_the_stdlib():
    code = (
        "import sys; before = set(sys.modules); import extraction.rob.engine; "
        "new = sorted(set(sys.modules) - before); print('\\n'.join(new))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    ours = ("extraction", "extraction.rob", "extraction.rob.engine")
    foreign = [
        m
        for m in out.stdout.split()
        if m.split(".")[0] not in sys.stdlib_module_names
        and m not in ours
        and not m.startswith("extraction.rob.engine.")
    ]
    assert foreign == []
