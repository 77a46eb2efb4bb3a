"""The simulation's HTML plots as Chromium lays them out: no label falls outside its drawing.

SVG clips what lies outside its view box, so a label wider than the room left for it is cut (the
grid's heat maps lost their row field's name on the left and their titles on the right before the
maps were sized from their labels). Headless Chromium renders every plot of a single run, a sweep
with its z3 boundary past the last column, and a grid, and a script measures each text's box
against its drawing's view box. Skipped without Chromium (Debian: ``apt-get install chromium``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import attrs
import pytest
from sim_base import BASE

from solvent.reports import simulation_html, simulation_sweep
from solvent.rules.presets import load_preset
from solvent.simulation.run import prepare, simulate
from solvent.simulation.sweep import sweep

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)

#: after the page loads: every <text> whose box leaves its <svg>'s view box, written into the page
PROBE = """<script>
window.addEventListener('load', () => {
  const out = [];
  document.querySelectorAll('svg').forEach((svg, i) => {
    const v = svg.viewBox.baseVal;
    svg.querySelectorAll('text').forEach(t => {
      const b = t.getBBox();
      if (b.x < v.x - 0.5 || b.x + b.width > v.x + v.width + 0.5 || b.y < v.y - 0.5 || b.y + b.height > v.y + v.height + 0.5)
        out.push(`plot ${i}: '${t.textContent}' spans ${b.x.toFixed(1)}..${(b.x + b.width).toFixed(1)} of 0..${v.width}`);
    });
  });
  const pre = document.createElement('pre'); pre.id = 'clipped'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def _svgs(page: str) -> list[str]:
    return re.findall(r"<svg .*?</svg>", page, re.S)


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (Debian: apt-get install chromium)")
def test_no_label_is_clipped_in_any_simulation_plot(write, tmp_path: Path) -> None:
    jumpy = BASE.replace('model = "gbm"\nstart = 10000\nvolatility = 0.8', 'model = "merton"\nstart = 10000\nvolatility = 0.5\njump_intensity = 2000\njump_mean = -0.08\njump_stdev = 0.05')  # fmt: skip
    prepared = prepare(load_preset("binance"), write(jumpy))
    single = simulation_html.render_html(simulate(prepared, paths=20, seed=1))
    field = "scenario.path.max_move_ppm"
    told = {"proved_at_ppm": 16000, "refuted_at_ppm": 16001, "boundary": "16,000 ppm (1.6%)", "question": "safe-move"}
    swept = attrs.evolve(sweep(prepared, field, [2000, 8000, 16000], paths=2, seed=1), threshold=told)
    row = attrs.evolve(swept, fixed=("scenario.book.insurance_fund_ppm", 50_000))
    maps = [simulation_sweep.heat_map(swept)]
    maps += [simulation_sweep.grid_map([row, row], *estimate) for estimate in simulation_sweep.HEAT_ROWS]
    plots = _svgs(single) + maps
    assert len(plots) == 3 + 1 + len(simulation_sweep.HEAT_ROWS)
    page = tmp_path / "plots.html"
    page.write_text("<!DOCTYPE html><html><body>" + "\n".join(plots) + PROBE + "</body></html>", encoding="utf-8")
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--dump-dom",
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
    found = re.search(r'<pre id="clipped">(.*?)</pre>', done.stdout, re.S)
    assert found, done.stderr[-2000:]
    assert json.loads(found[1].replace("&#39;", "'").replace("&amp;", "&").replace("&quot;", '"')) == []
