"""The import contracts in pyproject.toml hold: apps import downward only, no cycles, no reach from indexing."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts__are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")

    result = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
