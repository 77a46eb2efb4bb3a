"""Fixtures for the simulation tests: scenario files written under tmp_path."""

from pathlib import Path

import pytest
from sim_base import BASE


@pytest.fixture
def write(tmp_path: Path):
    """Write a scenario (and any extra files) under tmp_path; returns the scenario's path."""

    def _write(text: str = BASE, name: str = "scenario.toml", **files: str) -> Path:
        for file, content in files.items():
            (tmp_path / file).write_text(content, encoding="utf-8")
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write
