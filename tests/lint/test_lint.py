"""`make lint` as a test, so CI (which runs `make test`) fails when ruff or mypy (strict on skillatlas/) would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)


def test_ruff_passes() -> None:
    result = _run(str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_passes() -> None:
    # the files and per-package strictness come from [tool.mypy] in pyproject.toml
    result = _run(str(BIN / "mypy"))
    assert result.returncode == 0, result.stdout + result.stderr
