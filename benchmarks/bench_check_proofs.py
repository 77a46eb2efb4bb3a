"""z3's part of ``solvent check``, per preset: what each claim was given, spent and decided.

Each preset's claims are asked as ``solvent check PRESET --no-search --prove-budget 60M`` asks
them (``verdicts.proofs.proved_and_allotted``: the catalog claims that apply, in check's order,
within ``ProofBudget``), and for every question this prints its round (``verdicts.allotment``: 1,
or 2 for a claim asked again with the units the first round left), the units it was given and
spent, and its verdict; then the totals: claims proved (not counting those proved trivially, as the gallery counts them), refuted
and undecided of those asked, and the units spent of the budget. Seconds are printed with the load
average beside them; they vary on a shared machine, the units and the verdicts do not.

    python benchmarks/bench_check_proofs.py [--presets binance,bybit] [--budget 60M]
"""

from __future__ import annotations

import argparse
import os
import time

from solvent.properties import catalog
from solvent.rules.presets import load_preset, preset_names
from solvent.solver.margin_scopes import margin_scopes
from solvent.verdicts.allotment import spent
from solvent.verdicts.proofs import ProofBudget, proved_and_allotted


def _units(text: str) -> int:
    scale = {"K": 10**3, "M": 10**6}.get(text[-1:].upper(), 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="", help="comma-separated presets (default: every preset)")
    parser.add_argument("--budget", default="60M", help="z3 units per policy (default 60M, as check's)")
    args = parser.parse_args()
    names = [p for p in args.presets.split(",") if p] or list(preset_names())
    budget = ProofBudget(total=_units(args.budget))
    print(f"budget {budget.total:,} units, at most {budget.per_question:,} a question in the first round")
    for name in names:
        policy = load_preset(name)
        load = os.getloadavg()[0]
        started = time.perf_counter()
        ids = [i for i in catalog.ids() if catalog.get(i).applies(policy)]
        results, asked = proved_and_allotted(policy, ids, budget)
        seconds = time.perf_counter() - started
        scopes = margin_scopes(policy)  # two where the policy declares both margin modes, each its own budget
        print(f"\n{name}\n| claim | scope | round | given | spent | decided |\n| --- | --- | --- | --- | --- | --- |")
        for a in asked:
            print(
                f"| {a.claim} | {a.scope or 'all-cross'} | {a.round} | {a.given:,} | {a.spent:,} "
                f"| {'yes' if a.decided else 'no'} |"
            )
        counts = {"proved": 0, "refuted": 0, "undecided": 0, "trivially": 0}
        for result in results.values():
            said = "trivially" if result.trivial else result.verdict.value
            counts[said if said in counts else "undecided"] += 1
        print(
            f"{name}: proved {counts['proved']} of {len(ids)} (and {counts['trivially']} trivially), "
            f"refuted {counts['refuted']}, undecided {counts['undecided']}, not asked {len(ids) - len(results)}; "
            f"z3 units {spent(asked):,} of {budget.total * len(scopes):,} in {len(asked)} questions; "
            f"{seconds:.0f} s, load {load:.1f} -> {os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()
