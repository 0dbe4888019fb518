"""The import direction stays api -> workflows -> domain; nothing imports api."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

FORBIDDEN = {
    "domain": {"api", "workflows", "storage", "notifications", "wudan", "fastapi", "starlette",
               "sqlalchemy", "sqlmodel", "httpx", "apscheduler"},
    "workflows": {"api", "fastapi", "starlette"},
    "notifications": {"api", "workflows", "fastapi", "starlette"},
    "storage": {"api", "workflows", "notifications", "fastapi"},
}


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module.split(".")[0]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_import_direction(package):
    offenders = [
        f"{path} imports {name}"
        for path in Path(package).rglob("*.py")
        for name in _imports(path)
        if name in FORBIDDEN[package]
    ]
    assert offenders == []
