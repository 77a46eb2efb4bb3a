"""The exact split's facts go to a question whose claim reads the splits, not to the threshold probes.

``solver.exact_split_lemma``'s facts (``Σ shares = T``, each share's bounds) speak of a pro-rata
split's share transfers and its reported paid. ``StoryQuery`` gives them where an obligation asked
reads those (``Invariant.reads_splits``, the transfers' obligation ``None``): deficit-charged-once
needs them (percolator-gen-a at N = 4: undecided 9.1M units without, proved with). The threshold
questions' no-bad-debt reads the deficit before any split, and with the facts Gen A's safe-move
probe at 100,000 ppm was undecided at 18.9M units, without them proved in 276,669
(docs/solver-notes.md#the-split-facts-where-the-claim-reads-the-split-session-23).
"""

from __future__ import annotations

import attrs
import pytest

from solvent.properties.catalog import CATALOG
from solvent.rules.presets import load_preset
from solvent.solver import effort
from solvent.solver import thresholds as th
from solvent.solver.query import StoryQuery

#: the questions whose claim is about the deficit before any split, at a value each (Gen A's answers)
BEFORE_ANY_SPLIT = {"safe-move": 100_000, "maintenance-for-leverage": 50_000, "cross-market-safe-move": 100_000}


@pytest.mark.parametrize("question", sorted(BEFORE_ANY_SPLIT))
def test_the_no_bad_debt_questions_declare_that_they_read_no_split(question: str) -> None:
    policy = load_preset("percolator-gen-a")
    s = th.questions()[question].setup(policy, BEFORE_ANY_SPLIT[question], th.default_bounds())
    assert s.claim.id in ("no-bad-debt", "no-cross-bad-debt")
    assert s.claim.reads_splits is False


def test_the_questions_about_what_a_split_leaves_and_every_catalog_claim_read_the_splits() -> None:
    """A layer's cover, an account's equity after the step, a vault's balances: what the shares move."""
    assert all(c.reads_splits for c in (th.NO_HAIRCUT_LAYER, th.LIQUIDATION_LEAVES_NOTHING, th.vault_loss_within(1)))
    assert all(c.reads_splits for c in CATALOG.values())


def _probe_query(claim=None, *, transfers=False):
    policy = load_preset("percolator-gen-a")
    s = th.questions()["safe-move"].setup(policy, 100_000, th.default_bounds())
    claim = claim or s.claim
    with effort.question():
        return StoryQuery(s.policy, claim, s.bounds, obligations=(claim, None) if transfers else (claim,))


def test_gen_a_s_safe_move_probe_gets_no_split_fact_where_a_claim_reading_them_would() -> None:
    """The probe's own build (Gen A at 100,000 ppm, the safe-move answer) asks no split lemma and
    holds no split fact; the same build for the same claim declared as reading the splits gets
    the lemma's facts (so the probe's build has splits of the lemma's shape to withhold them from)."""
    probe = _probe_query()
    assert probe.split_lemmas.exact.used == {}
    assert probe.facts == []
    reading = _probe_query(attrs.evolve(th.NO_BAD_DEBT, reads_splits=True))
    assert reading.split_lemmas.exact.used
    assert reading.facts
    assert reading.build_units > probe.build_units


def test_the_transfers_obligation_reads_the_splits() -> None:
    """Asked beside the claim, the non-negative transfers (the shares are transfers) bring the facts."""
    both = _probe_query(transfers=True)
    assert both.split_lemmas.exact.used
    assert both.facts
