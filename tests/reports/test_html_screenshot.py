"""The HTML report as a person sees it: headless Chromium renders it to a PNG.

Skipped when no Chromium is installed (Debian: ``apt-get install chromium``). Set
``SOLVENT_SCREENSHOT_DIR`` to keep the PNG and look at it.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from solvent.reports import html_report
from solvent.verdicts.check import PolicyReport

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        chunks.append((data[at + 4 : at + 8], data[at + 8 : at + 8 + length]))
        at += 12 + length
    return chunks


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (Debian: apt-get install chromium)")
class TestScreenshot:
    """Chromium renders the report, offline, to a non-blank picture of the expected size."""

    def test_renders(self, reports: list[PolicyReport], tmp_path: Path) -> None:
        page = tmp_path / "report.html"
        page.write_text(html_report.render(reports), encoding="utf-8")
        keep = os.environ.get("SOLVENT_SCREENSHOT_DIR")
        png = Path(keep) / "report.png" if keep else tmp_path / "report.png"
        png.parent.mkdir(parents=True, exist_ok=True)
        command = [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: the page must not need the network
            "--window-size=1300,2600",
            f"--screenshot={png}",
            page.as_uri(),
        ]
        subprocess.run(command, capture_output=True, timeout=120, check=False, cwd=tmp_path)
        assert png.exists(), "Chromium wrote no screenshot"
        chunks = png_chunks(png.read_bytes())
        width, height = struct.unpack(">II", chunks[0][1][:8])
        assert (width, height) == (1300, 2600)
        pixels = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
        assert len(set(pixels[: len(pixels) // 2])) > 50, "the screenshot looks blank"
