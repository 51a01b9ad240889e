"""Dependencies run one way, in the order of the PRISMA flow.

Each of Evident's apps may import the apps below it in ``LAYERS`` and never one above it, not
even inside a function: a lower app that must make a higher one act (records imported, so
deduplicate and screen them) sends a hook (``core/hooks.py``) that the higher app connects in
its ``AppConfig.ready``. Migrations are history written by Django and are left out; so are
tests, benchmarks and ``config/`` (the project, above every app).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings

from tests.paths import ROOT

#: Lowest first: Evident's apps in the order INSTALLED_APPS lists them (config/settings/base.py
#: is the one place the order is written). Apps may not import an app listed after them.
LAYERS: list[str] = [app for app in settings.INSTALLED_APPS if (ROOT / app / "apps.py").exists()]
RANK = {app: n for n, app in enumerate(LAYERS)}

#: Pure packages of a higher app that a lower app may import: (package, importing app). Only a
#: package with no Django and no Evident app in it (checked below) can be shared downward, for
#: it cannot make the lower app depend on the higher one's models or services. Data extraction
#: computes effect sizes with synthesis's pure metafor-exact engine (docs/architecture.md).
PURE_SHARED: set[tuple[str, str]] = {("synthesis.stats", "extraction")}


def _shared(module: str, app: str) -> bool:
    return any(
        (module == pkg or module.startswith(pkg + ".")) and app == importer
        for pkg, importer in PURE_SHARED
    )


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports, at any depth (inside functions too), made absolute."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            # ``from screening import services`` names a module of screening too.
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def _violations(app: str) -> list[str]:
    bad = []
    for path in sorted((ROOT / app).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for line, module in _imported_modules(path):
            top = module.split(".")[0]
            if top in RANK and RANK[top] > RANK[app] and not _shared(module, app):
                bad.append(
                    f"{path.relative_to(ROOT)}:{line} imports {module} ({top} is above {app})"
                )
    return bad


def test_every_app_of_evident_has_a_place_in_the_order():
    packages = {p.parent.name for p in ROOT.glob("*/apps.py")}
    assert set(LAYERS) == packages
    assert LAYERS[0] == "core" and LAYERS[-2:] == ["reporting", "demo"]


@pytest.mark.parametrize("app", LAYERS)
def test_no_app_imports_an_app_above_it(app):
    assert _violations(app) == []


def test_the_check_finds_an_upward_import_hidden_in_a_function(tmp_path, monkeypatch):
    fake = tmp_path / "core"
    fake.mkdir()
    (fake / "x.py").write_text("def f():\n    from screening import services\n")
    monkeypatch.setattr("tests.test_dependencies.ROOT", tmp_path)
    assert _violations("core") == [
        "core/x.py:2 imports screening (screening is above core)",
        "core/x.py:2 imports screening.services (screening is above core)",
    ]


@pytest.mark.parametrize("package", sorted({pkg for pkg, _ in PURE_SHARED}))
def test_a_package_shared_downward_is_pure(package):
    """It imports neither Django nor any of Evident's apps (other than its own modules)."""
    folder = ROOT / package.replace(".", "/")
    bad = []
    for path in sorted(folder.rglob("*.py")):
        for line, module in _imported_modules(path):
            top = module.split(".")[0]
            own = module == package or module.startswith(package + ".")
            if top in ("django", "rest_framework") or (top in RANK and not own):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert bad == []


def test_only_a_pure_package_is_shared_downward(tmp_path, monkeypatch):
    fake = tmp_path / "extraction"
    fake.mkdir()
    (fake / "x.py").write_text("from synthesis.stats import escalc\nfrom synthesis import models\n")
    monkeypatch.setattr("tests.test_dependencies.ROOT", tmp_path)
    assert _violations("extraction") == [
        "extraction/x.py:2 imports synthesis (synthesis is above extraction)",
        "extraction/x.py:2 imports synthesis.models (synthesis is above extraction)",
    ]
