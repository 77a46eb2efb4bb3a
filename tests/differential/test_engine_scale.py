"""The engine's working state does not change what it computes: books, ledger entries, outcomes and
rejections of seeded stories are bit-identical to the engine before it ran in linear time.

``golden/engine_steps.json`` holds, for every story, a digest of each step (the book after, the
transfers and the outcomes as attrs reprs (``attrs_text``), or the rejection message) written by the engine whose
every transfer rebuilt the whole account tuple (commit c4ab166). A deliberate change of the
engine's semantics rewrites it: ``python tests/differential/test_engine_scale.py --overwrite``.

Stories are seeded streams of every event kind, with mark gaps of up to 25% so that the sweep,
bankruptcy, ADL and every waterfall layer run, on books of 3 to 24 traders (some isolated), for
every bundled preset and every policy of ``stories.POLICIES``.
"""

from __future__ import annotations

import enum
import hashlib
import json
import random
import sys
from pathlib import Path

import attrs
import pytest
from stories import POLICIES

from solvent.rules.book import Book, new_book
from solvent.rules.engine import RejectedEvent, step
from solvent.rules.events import Deposit, Funding, MarkPrice, SpotDeposit, Taker, Trade, Withdraw
from solvent.rules.margin import initial_margin
from solvent.rules.policy import Policy
from solvent.rules.presets import load_preset

GOLDEN = Path(__file__).parent / "golden" / "engine_steps.json"

#: presets at commit c4ab166 (a preset added later has no golden yet)
PRESETS = (
    "backpack",
    "binance",
    "bitmex",
    "broker-reg-t",
    "bybit",
    "drift",
    "dydx-v4",
    "gmx-v2",
    "hyperliquid",
    "mango-v4",
    "okx",
    "okx-2018",
    "percolator",
)

#: (traders, events, seed): small books with long stories, larger books with shorter ones
SHAPES = ((3, 120, 1), (6, 100, 2), (12, 60, 3), (24, 40, 4))


def events(rng: random.Random, n: int, traders: tuple[str, ...], mark: int) -> list:
    """A seeded stream: deposits (some to the pools), withdrawals, trades, mark moves up to ±25%, funding."""
    out: list = []
    for _ in range(n):
        kind = rng.random()
        a, b = rng.sample(traders, 2)
        if kind < 0.14:
            out.append(Deposit(a, rng.randint(1_000, 300_000)))
        elif kind < 0.16:
            out.append(Deposit(rng.choice(("insurance_fund", "backstop_vault", "fee_account")), rng.randint(1, 50_000)))
        elif kind < 0.18:
            out.append(SpotDeposit(a, rng.randint(1_000, 100_000)))
        elif kind < 0.23:
            out.append(Withdraw(a, rng.randint(1, 30_000)))
        elif kind < 0.65:
            taker = Taker.BUYER if rng.random() < 0.5 else Taker.SELLER
            out.append(Trade(a, b, rng.randint(1, 120), max(1, mark + rng.randint(-60, 60)), taker))
        elif kind < 0.95:
            mark = max(100, mark + mark * rng.randint(-250, 250) // 1_000)
            out.append(MarkPrice(mark))
        else:
            out.append(Funding(rng.randint(-3_000, 3_000)))
    return out


def start(policy: Policy, rng: random.Random, traders: tuple[str, ...]) -> tuple[Book, list]:
    """A fresh book (every third trader isolated) and the events that open it: the order book's and
    the fund's deposits, then each pair of traders deposits and trades at the mark, using 30% to
    100% of what the poorer side's deposit margins (so the first gaps liquidate many at once)."""
    book = new_book(mark_quote=10_000, traders=traders, isolated=traders[2::3])
    out: list = [Deposit("liquidity", 10**9), Deposit("insurance_fund", 20_000)]
    for buyer, seller in zip(traders[::2], traders[1::2], strict=False):
        cash = rng.randint(5_000, 200_000)
        out += [Deposit(buyer, cash), Deposit(seller, cash)]
        budget = cash * rng.randint(30, 100) // 100
        lots = 0
        while initial_margin(policy.margin, policy.rounding, lots + 1, 10_000) <= budget and lots < 10_000:
            lots += 1
        if lots:
            out.append(Trade(buyer, seller, lots, 10_000))
    return book, out


#: fields added after the digests were written (a book's further markets and positions, an
#: event's market): left out at their defaults, so a one-market story digests as it did
LATER_FIELDS = frozenset(
    {
        "more_markets",
        "more_positions",
        "market",
        "funding_remainder_millionths",
        "assets",
        "asset_balances",
        "owner",
        "isolated_market",
        "more_funds",
        "more_window_sums",
        "reserve_slope_quote",
        "fund_settled_quote",
    }
)


def attrs_text(value: object) -> str:
    """The text attrs' generated ``repr`` gave a record when the digests were written: every field,
    enum members as ``<Role.TRADER: 'trader'>``. Books and events now print as the Python that
    builds them (defaults left out, ``Role.TRADER``), which would change every digest while the
    engine computes the same values."""
    if isinstance(value, enum.Enum):
        return f"<{type(value).__name__}.{value.name}: {value.value!r}>"
    if attrs.has(type(value)):
        shown = [
            f
            for f in attrs.fields(type(value))
            if f.repr and not (f.name in LATER_FIELDS and getattr(value, f.name) == f.default)
        ]
        inner = ", ".join(f"{f.name}={attrs_text(getattr(value, f.name))}" for f in shown)
        return f"{type(value).__qualname__}({inner})"
    if isinstance(value, tuple):
        inner = ", ".join(attrs_text(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(attrs_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{attrs_text(k)}: {attrs_text(v)}" for k, v in value.items()) + "}"
    return repr(value)


def digest(policy: Policy, shape: tuple[int, int, int]) -> list[str]:
    """One 16-hex-digit digest per step of the story of this shape."""
    n, count, seed = shape
    traders = tuple(f"t{i}" for i in range(n))
    rng = random.Random(seed)
    book, opening = start(policy, rng, traders)
    out = []
    for event in opening + events(rng, count, traders, 10_000):
        try:
            s = step(policy, book, event)
        except RejectedEvent as e:
            text = f"rejected {e.reason}"
        else:
            book = s.after
            text = attrs_text((s.after, s.transfers, s.outcomes))
        out.append(hashlib.sha256(text.encode()).hexdigest()[:16])
    return out


def policies() -> dict[str, Policy]:
    out = {f"preset {name}": load_preset(name) for name in PRESETS}
    out.update({f"policy {name}": policy for name, policy in POLICIES.items()})
    return out


def story_ids() -> list[str]:
    return [
        f"{name} N={shape[0]}"
        for name in [*(f"preset {p}" for p in PRESETS), *(f"policy {p}" for p in POLICIES)]
        for shape in SHAPES
    ]


@pytest.fixture(scope="module")
def golden() -> dict[str, str]:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


@pytest.mark.parametrize("story", story_ids())
def test_steps_equal_the_per_transfer_rebuild(story: str, golden: dict[str, str]) -> None:
    """Every step of the story gives the book, transfers, outcomes or rejection it gave before."""
    name, _, size = story.rpartition(" N=")
    shape = next(s for s in SHAPES if s[0] == int(size))
    got = digest(policies()[name], shape)
    expected = golden[story].split()
    first = next((i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b), None)
    assert first is None, f"{story}: step {first} differs from the golden engine"


def overwrite() -> None:
    table = {}
    for name, policy in policies().items():
        for shape in SHAPES:
            table[f"{name} N={shape[0]}"] = " ".join(digest(policy, shape))
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(table, indent=0) + "\n", encoding="utf-8")
    print(f"wrote {len(table)} stories, {sum(map(len, table.values()))} steps to {GOLDEN}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--overwrite"]:
        sys.exit("usage: python tests/differential/test_engine_scale.py --overwrite")
    overwrite()
