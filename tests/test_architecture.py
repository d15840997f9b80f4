"""The import contracts in pyproject.toml hold, and break on an upward import: apps import downward only."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts__are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")

    result = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_import_contracts__an_upward_import_breaks_them(tmp_path):
    lint_imports = Path(sys.executable).with_name("lint-imports")
    for package in ("core", "catalog", "knowledge", "governance", "assistant", "demo"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    tenancy = tmp_path / "core" / "tenancy.py"
    tenancy.write_text(tenancy.read_text() + "\nfrom catalog import models  # noqa: E402 - upward, on purpose\n")

    result = subprocess.run([str(lint_imports)], cwd=tmp_path, capture_output=True, text=True, timeout=300)

    assert result.returncode != 0
    assert "BROKEN" in result.stdout and "core.tenancy -> catalog.models" in result.stdout
