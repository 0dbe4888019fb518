"""The import layers of pyproject.toml's import-linter contracts hold: each package imports only those below it.

wudan (the entry points) → api → jobs → workflows | notifications → infra → storage → domain;
domain knows no framework, database or network, and nothing below api knows the web.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
