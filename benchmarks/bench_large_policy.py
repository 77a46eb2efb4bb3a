"""A policy's size: writing, digesting, saving and reading back a policy whose ``description`` is
1 MB and 10 MB, and the ratio of the two (linear: about 10).

Run: ``python benchmarks/bench_large_policy.py [--sizes 1,10] [--repeats 3]``. Each figure is
the best of its repeats, both sizes measured in the same run (the machine is shared: compare the
ratio, not the seconds, and read it beside the load average printed first and last). Issue 11,
item 7: a 50 MB description ran past two minutes when each character was escaped by a Python call.

What is timed, per size:

- ``dumps``: ``dumps_policy`` (the TOML text; one ``json.dumps`` escapes the description)
- ``digest``: ``policy_digest`` (the dump, then sha256)
- ``save``: ``findings.save`` of one finding (the dump once, then the JSON file)
- ``story``: ``findings.load_story`` (what the counterexample database reads before a search)
- ``load``: ``findings.load`` (the whole finding: JSON, then the policy's TOML through tomllib)
- ``file``: ``load_policy`` of the policy written out as a ``.toml`` file
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import attrs

from solvent.properties import findings
from solvent.properties.scenarios import build
from solvent.rules.loading import dumps_policy, load_policy
from solvent.rules.presets import load_preset

#: plain words with every character the escaping treats differently
UNIT = 'The venue pays "a deficit" from its fund\\then ADL.\n\tTabs, é, € and 𝄞 too. '


def best(action: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(megabytes: int, repeats: int, folder: Path) -> dict[str, float]:
    n = megabytes * 1_000_000
    policy = attrs.evolve(load_preset("drift"), description=(UNIT * (n // len(UNIT) + 1))[:n])
    story = build(policy, "gap-crash")
    finding = findings.Finding(policy, "no-haircut", story, len(story.events) - 1)
    path = folder / f"{megabytes}mb.json"
    toml = folder / f"{megabytes}mb.toml"
    toml.write_text(dumps_policy(policy), encoding="utf-8")
    figures = {
        "dumps": best(lambda: dumps_policy(policy), repeats),
        "digest": best(lambda: findings.policy_digest(policy), repeats),
        "save": best(lambda: findings.save(finding, path), repeats),
        "story": best(lambda: findings.load_story(path), repeats),
        "load": best(lambda: findings.load(path), repeats),
        "file": best(lambda: load_policy(toml), repeats),
    }
    assert findings.load(path).policy == policy
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,10", help="description sizes in MB, comma-separated (default 1,10)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory() as tmp:
        results = {mb: measure(mb, args.repeats, Path(tmp)) for mb in sizes}
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    names = list(results[sizes[0]])
    print(
        f"{'seconds (best of ' + str(args.repeats) + ')':24}"
        + "".join(f"{str(mb) + ' MB':>10}" for mb in sizes)
        + (f"{'ratio':>10}" if len(sizes) > 1 else "")
    )
    for name in names:
        row = "".join(f"{results[mb][name]:10.3f}" for mb in sizes)
        ratio = (
            f"{results[sizes[-1]][name] / results[sizes[0]][name]:10.1f}"
            if len(sizes) > 1 and results[sizes[0]][name] > 0
            else ""
        )
        print(f"{name:24}{row}{ratio}")
    if len(sizes) > 1:
        print(f"(sizes ratio {sizes[-1] / sizes[0]:.0f}: a linear step's ratio is about that)")


if __name__ == "__main__":
    main()
