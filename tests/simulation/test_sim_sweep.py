"""``simulate --sweep`` and ``--at-threshold``: the same seeds at every value, estimates that move the
way the parameter says, the same JSON on any number of workers, values set where the threshold's
proof puts them, and bad input refused with the option named (exit 2, no traceback)."""

import json
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from sim_base import BASE

from solvent.cli import main
from solvent.rules.presets import load_preset
from solvent.simulation.edge import NoProvedValue, at_fraction, find, plan
from solvent.simulation.paths import build, capped
from solvent.simulation.run import prepare
from solvent.simulation.sweep import MAX_VALUES, SweepError, parse, sweep, variant
from solvent.solver.thresholds import Direction, Threshold, ThresholdStatus

#: the module's tests run on one xdist worker (``--dist loadgroup`` sends every ungrouped test
#: on its own, so its tests were split over both workers and each built the module's fixtures):
#: `edge_at_one_worker` (binance's safe move and its paths): 6-7 s under load, built on both workers
#: (session 25)
pytestmark = pytest.mark.xdist_group("sim-sweep")

BINANCE = load_preset("binance")
#: a crowd leaning long at up to 20x through frequent 8% crashes: the fund is often exhausted
JUMPY = (
    BASE.replace(
        'model = "gbm"\nstart = 10000\nvolatility = 0.8',
        'model = "merton"\nstart = 10000\nvolatility = 0.5\njump_intensity = 2000\njump_mean = -0.08\njump_stdev = 0.05',
    )
    .replace("long_share = 0.5", "long_share = 0.8")
    .replace("high = 10", "high = 20")
)


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


#: binance's safe move on JUMPY at its default fractions, as JSON: asked once at one worker (the
#: fixture below) and once at two (test_the_edge_json_is_the_same_on_one_or_two_workers)
EDGE_ARGS = ("--paths", "8", "--batch", "3", "--at-threshold", "safe-move", "--format", "json")


@pytest.fixture(scope="module")
def edge_at_one_worker(tmp_path_factory) -> tuple[str, str]:
    """The scenario's path and the JSON ``simulate --at-threshold safe-move`` writes at one worker:
    the run the CLI's report is read from and two workers' bytes are compared with (the threshold was
    found by each of those tests on its own before session 24's second pass; nothing here patches the
    engine)."""
    folder = tmp_path_factory.mktemp("edge")
    scenario = folder / "scenario.toml"
    scenario.write_text(JUMPY, encoding="utf-8")
    out = folder / "w1.json"
    done = invoke(
        "simulate", "binance", "--scenario", str(scenario), *EDGE_ARGS, "--workers", "1", "--output", str(out)
    )
    assert done.exit_code == 0, done.output
    return str(scenario), out.read_text()


def _counts(s, name: str) -> list[int]:
    return [p.result.summary["probabilities"][name]["count"] for p in s.points]


class TestSweep:
    def test_a_larger_fund_is_exhausted_on_fewer_paths(self, write) -> None:
        """Binance, seed 3, 40 paths: the fund at the start swept from 0 to 40% of the long open
        interest. The same paths go bankrupt at every value (the fund pays deficits, it prevents
        none); fewer exhaust the fund and reach ADL as it grows."""
        prepared = prepare(BINANCE, write(JUMPY))
        s = sweep(prepared, "scenario.book.insurance_fund_ppm", [0, 20_000, 100_000, 400_000], paths=40, seed=3)
        assert [p.value for p in s.points] == [0, 20_000, 100_000, 400_000]
        assert _counts(s, "fund_exhausted") == [12, 4, 0, 0]
        assert _counts(s, "adl") == [12, 4, 0, 0]
        assert _counts(s, "bad_debt") == [13, 13, 13, 13]
        low = s.points[0].result.summary["probabilities"]["fund_exhausted"]
        high = s.points[-1].result.summary["probabilities"]["fund_exhausted"]
        assert low["low"] > high["high"]  # the intervals do not overlap: the fund's effect, not noise

    def test_a_larger_penalty_feeds_the_fund(self, write) -> None:
        """Binance pays the liquidation penalty into the insurance fund, which starts empty here:
        with a penalty, solvent liquidations before a crash leave the fund something, and one path
        of 40 no longer exhausts it (seed 3; the same paths have bad debt at every penalty)."""
        text = (
            BASE.replace(
                'model = "gbm"\nstart = 10000\nvolatility = 0.8',
                'model = "merton"\nstart = 10000\nvolatility = 1.0\njump_intensity = 500\njump_mean = -0.06\n'
                "jump_stdev = 0.03",
            )
            .replace("long_share = 0.5", "long_share = 0.7")
            .replace("high = 10", "high = 20")
            .replace("traders = 3", "traders = 12")
            .replace("insurance_fund_ppm = 10000", "insurance_fund_ppm = 0")
            .replace("steps = 6", "steps = 24")
        )
        s = sweep(prepare(BINANCE, write(text)), "liquidation.penalty_ppm", [0, 10_000, 30_000], paths=40, seed=3)
        assert _counts(s, "fund_exhausted") == [30, 29, 29]
        assert _counts(s, "bad_debt") == [30, 30, 30]

    def test_every_value_runs_the_same_seeds(self, write) -> None:
        """A policy field changes the policy only: path i has the same book and prices at each value."""
        prepared = prepare(BINANCE, write(JUMPY))
        a, b = (variant(prepared, "liquidation.penalty_ppm", v) for v in (0, 50_000))
        assert a.policy.liquidation.penalty_ppm == 0 and b.policy.liquidation.penalty_ppm == 50_000
        assert build(a, 3, 7) == build(b, 3, 7)
        assert a.scenario == b.scenario == prepared.scenario

    def test_a_layer_by_name_and_tiers_kept_continuous(self, write) -> None:
        prepared = prepare(BINANCE, write())
        capped_fund = variant(prepared, "insurance_fund.cap_quote", 5)
        assert capped_fund.policy.deficit[0].cap_quote == 5
        tiers = variant(prepared, "margin.tiers[0].maintenance_ppm", 3_000).policy.margin.tiers
        # cum_n = cum_(n-1) + floor_n × (MMR_n − MMR_(n−1)): 5,000,000 × 0.2% = 10,000 above the first
        assert [(t.maintenance_ppm, t.maintenance_amount_quote) for t in tiers[:3]] == [
            (3_000, 0),
            (5_000, 10_000),
            (6_500, 100_000),
        ]

    @pytest.mark.parametrize(
        ("spec", "field", "values"),
        [
            ("liquidation.penalty_ppm=0,5000,1e4", "liquidation.penalty_ppm", [0, 5000, Fraction(10_000)]),
            (
                "scenario.book.insurance_fund_ppm=0..20000:5000",
                "scenario.book.insurance_fund_ppm",
                [0, 5000, 10000, 15000, 20000],
            ),
            ("liquidation.execution=market,bankruptcy", "liquidation.execution", ["market", "bankruptcy"]),
            ("scenario.prices.volatility=0.5, 1.2", "scenario.prices.volatility", [Fraction(1, 2), Fraction(6, 5)]),
        ],
    )
    def test_values_are_read_exactly(self, spec: str, field: str, values: list) -> None:
        assert parse(spec) == (field, values)

    @pytest.mark.parametrize(
        ("spec", "message"),
        [
            ("liquidation.penalty_ppm", "expected FIELD=V1,V2,... or FIELD=START..STOP:STEP"),
            ("liquidation.penalty_ppm=1,1", "the value 1 appears twice"),
            ("liquidation.penalty_ppm=0..1000", f"gives 1,001 values; at most {MAX_VALUES}"),
            ("liquidation.penalty_ppm=5..1:1", "START must be <= STOP"),
            ("liquidation..penalty_ppm=1", "is not a dotted field path"),
            ("scenario.prices.volatility=nan", "'nan' is not a finite number"),
        ],
    )
    def test_a_malformed_sweep_is_refused(self, spec: str, message: str) -> None:
        with pytest.raises(SweepError, match=message.replace(".", r"\.").replace("(", r"\(")):
            parse(spec)


class TestCli:
    def test_the_text_table_and_identical_json_on_one_or_two_workers(self, write, tmp_path: Path) -> None:
        scenario = str(write(JUMPY))
        sweep_arg = "scenario.book.insurance_fund_ppm=0,100000"
        done = invoke("simulate", "binance", "--scenario", scenario, "--paths", "12", "--sweep", sweep_arg)
        assert done.exit_code == 0, done.output
        assert "sweep of scenario.book.insurance_fund_ppm over 2 values, 12 paths each (seed 11)" in done.output
        assert "P(fund exhausted)" in done.output and "winners' haircut VaR 99% (ppm)" in done.output
        texts = []
        for workers in ("1", "2"):
            out = tmp_path / f"w{workers}.json"
            args = ["--paths", "12", "--batch", "5", "--workers", workers, "--format", "json", "--output", str(out)]
            done = invoke("simulate", "binance", "--scenario", scenario, "--sweep", sweep_arg, *args)
            assert done.exit_code == 0, done.output
            texts.append(out.read_text())
        assert texts[0] == texts[1]
        data = json.loads(texts[0])
        assert data["schema"] == "solvent.simulation.sweep/1"
        (s,) = data["sweeps"]
        assert s["field"] == "scenario.book.insurance_fund_ppm" and [p["value"] for p in s["points"]] == [0, 100_000]
        assert all(len(p["per_path"]) == 12 for p in s["points"])
        assert s["points"][0]["summary"]["probabilities"]["fund_exhausted"]["count"] > 0

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--sweep", "liquidation.penalti_ppm=1"], "did you mean 'liquidation.penalty_ppm'?"),
            (["--sweep", "insurance_fund.initial_quote=1"], "scenario.book.insurance_fund_quote"),
            (["--sweep", "liquidation.penalty_ppm=2000000"], "'penalty_ppm' must be <= 1000000: 2000000"),
            (["--sweep", "liquidation.penalty_ppm=abc"], "'penalty_ppm' must be an integer number of ppm"),
            # the value as written, as a file's error shows it (it was "Fraction(1, 2)")
            (["--sweep", "liquidation.penalty_ppm=0.5"], "must be an integer number of ppm: 0.5 @ $.liquidation"),
            (["--sweep", "penalty"], "expected FIELD=V1,V2,..."),
            (["--sweep", "liquidation.execution=markt"], "did you mean 'market'?"),
            (["--at-threshold", "safe-mov"], "did you mean 'safe-move'?"),
            (["--at-threshold", "safe-move", "--fractions", "95,0"], "must be above 0"),
            (["--at-threshold", "safe-move", "--fractions", "x"], "is not a percentage"),
            (["--at-threshold", "safe-move", "--threshold-effort", "lots"], "is not a number of units"),
            (
                ["--sweep", "liquidation.penalty_ppm=1", "--at-threshold", "safe-move"],
                "--sweep and --at-threshold cannot be combined",
            ),
            (["--boundary"], "give --sweep FIELD=..."),
            (["--sweep", "fees.taker_ppm=1,2", "--boundary"], "no threshold question varies fees.taker_ppm"),
        ],
    )
    def test_bad_input_names_the_option(self, write, tmp_path: Path, args: list[str], message: str) -> None:
        out = tmp_path / "out.json"
        done = invoke("simulate", "binance", "--scenario", str(write()), *args, "--output", str(out))
        assert done.exit_code == 2, done.output
        assert message in done.output, done.output
        option = [a for a in args if a.startswith("--")][-1]  # the option at fault, named in the message
        assert f"'{option}'" in done.output or f"{option} cannot" in done.output, done.output
        assert not isinstance(done.exception, Exception) or isinstance(done.exception, SystemExit)
        assert not out.exists()


def _threshold(question: str, direction: Direction, status: ThresholdStatus, proved, refuted) -> Threshold:
    return Threshold(question, question, "binance", direction, status, proved_at=proved, refuted_at=refuted)


class TestEdge:
    def test_fractions_round_toward_the_proved_side(self) -> None:
        largest = _threshold("safe-move", Direction.LARGEST, ThresholdStatus.EXACT, 8_001, 8_002)
        smallest = _threshold("fund-for-gap", Direction.SMALLEST, ThresholdStatus.EXACT, 192_001, 192_000)
        assert [at_fraction(largest, Fraction(f)) for f in (95, 99, 100)] == [7_600, 7_920, 8_001]
        assert [at_fraction(smallest, Fraction(f)) for f in (95, 99, 100)] == [182_401, 190_081, 192_001]

    def test_each_question_sets_what_its_proof_varies(self, write) -> None:
        from solvent.solver.thresholds import questions

        prepared = prepare(BINANCE, write())
        table = questions()
        fund = plan(
            prepared,
            (
                table["fund-for-gap"],
                _threshold("fund-for-gap", Direction.SMALLEST, ThresholdStatus.EXACT, 192_000, 191_999),
            ),
        )
        assert fund.field == "scenario.book.insurance_fund_ppm"
        assert [(v, p.scenario.book.insurance_fund_ppm) for _, v, p in fund.points] == [
            (182_400, 182_400),
            (190_080, 190_080),
            (192_000, 192_000),
        ]
        upkeep = plan(
            prepared,
            (
                table["maintenance-for-leverage"],
                _threshold("maintenance-for-leverage", Direction.SMALLEST, ThresholdStatus.EXACT, 50_000, 49_999),
            ),
            [Fraction(100)],
        )
        ((_, value, variant_),) = upkeep.points
        (tier,) = variant_.policy.margin.tiers
        assert (value, tier.initial_ppm, tier.maintenance_ppm) == (50_000, 100_000, 50_000)
        assert "one margin tier, initial 100,000 ppm (10x)" in upkeep.note

    def test_no_proved_value_is_refused_before_any_path_runs(self, write) -> None:
        from solvent.solver.thresholds import questions

        prepared = prepare(BINANCE, write())
        none = _threshold("fund-for-gap", Direction.SMALLEST, ThresholdStatus.NONE, None, 1_000_000)
        with pytest.raises(NoProvedValue, match="no proved value to take fractions of"):
            plan(prepared, (questions()["fund-for-gap"], none))

    def test_the_cap_bounds_every_move_and_chases_the_model(self) -> None:
        marks = capped([10_000, 5_000, 5_000, 5_000, 20_000], 10_000, 100_000)
        assert marks == [10_000, 9_000, 8_100, 7_290, 8_019]
        assert all(abs(b - a) * 1_000_000 <= 100_000 * a for a, b in zip([10_000, *marks], marks, strict=False))
        assert capped([7, 3], 5, None) == [7, 3]

    def test_at_the_safe_move_every_mark_moves_within_the_proof(self, write) -> None:
        """Binance's largest safe one-tick move, found by z3 (8,000 ppm: its 125x initial rate),
        then the scenario at 95, 99 and 100% of it: every mark event of every path moves at most
        that share, and every point lies on the proved side. Bad debt is still possible: the proof
        is about one move from a book at its initial margin, a path about many."""
        prepared = prepare(BINANCE, write(JUMPY))
        found = find(prepared, "safe-move", effort=30_000_000, probes=40)
        assert (found[1].status, found[1].proved_at) == (ThresholdStatus.EXACT, 8_000)
        p = plan(prepared, found)
        assert [v for _, v, _ in p.points] == [7_600, 7_920, 8_000]
        for _, value, variant_ in p.points:
            path = build(variant_, 5, 0)
            prices = [10_000, *(m.price_quote for m in path.marks)]
            assert all(abs(b - a) * 1_000_000 <= value * a for a, b in zip(prices, prices[1:], strict=False))

    def test_the_cli_reports_the_fractions_side_by_side(self, edge_at_one_worker: tuple[str, str]) -> None:
        scenario, text = edge_at_one_worker
        (s,) = json.loads(text)["sweeps"]
        assert s["field"] == "scenario.path.max_move_ppm"
        assert s["threshold"]["status"] == "exact" and s["threshold"]["proved_at_ppm"] == 8_000
        assert s["threshold"]["units"] > 0 and "seconds" not in s["threshold"]
        assert [(p["fraction_percent"], p["value"], p["side"]) for p in s["points"]] == [
            (95, 7_600, "safe"),
            (99, 7_920, "safe"),
            (100, 8_000, "safe"),
        ]
        done = invoke("simulate", "binance", "--scenario", scenario, "--at-threshold", "safe-move", "--paths", "8")
        assert done.exit_code == 0, done.output
        assert "threshold safe-move, largest one-tick move with no bad debt: 8,000 ppm (0.8%)" in done.output
        assert "share    scenario.path.max_move_ppm    side of the boundary" in done.output


def test_a_threshold_without_a_proved_value_exits_3_and_one_that_does_not_apply_2(write, tmp_path: Path) -> None:
    """No probe allowed: nothing proved, nothing to take fractions of (exit 3, nothing written);
    a fund question on a policy without a fund is bad input (exit 2, the option named)."""
    out = tmp_path / "edge.json"
    scenario = str(write())
    done = invoke(
        "simulate", "binance", "--scenario", scenario, "--at-threshold", "safe-move", "--threshold-probes", "0",
        "--output", str(out),
    )  # fmt: skip
    assert done.exit_code == 3, done.output
    assert "no proved value to take fractions of (unknown within its probes and effort)" in done.output
    done = invoke("simulate", "broker-reg-t", "--scenario", scenario, "--at-threshold", "fund-for-gap")
    assert done.exit_code == 2 and "'--at-threshold'" in done.output
    assert "fund-for-gap does not apply to broker-reg-t: the policy has no insurance fund layer" in done.output
    assert not out.exists()


def test_a_heat_map_with_the_z3_boundary_between_the_columns(write, tmp_path: Path) -> None:
    """--boundary on a sweep of the move cap finds the safe move (8,000 ppm on Binance) and the
    HTML heat map draws it between the 8,000 and 16,000 columns; the page is the same twice."""
    from solvent.reports.simulation_sweep import CELL_W, LABEL_W

    scenario = str(write(JUMPY))
    pages = []
    for name in ("a.html", "b.html"):
        out = tmp_path / name
        done = invoke(
            "simulate", "binance", "--scenario", scenario, "--paths", "6", "--boundary", "--format", "html",
            "--sweep", "scenario.path.max_move_ppm=2000,8000,16000", "--output", str(out),
        )  # fmt: skip
        assert done.exit_code == 0, done.output
        pages.append(out.read_text())
    assert pages[0] == pages[1]
    page = pages[0]
    assert page.count("<svg") == 1 and "z3 boundary: 8,000 ppm (0.8%)" in page
    edge = LABEL_W + 2 * CELL_W - 1  # after the second column, 8,000
    assert f'<line x1="{edge}" ' in page
    assert "P(fund exhausted)" in page and "threshold safe-move, largest one-tick move with no bad debt" in page


@pytest.mark.parametrize(
    ("proved", "refuted", "after", "where"),
    [
        (8000, 8001, 2, ""),  # between the 8,000 and 16,000 columns
        (16000, 16001, 3, ", at or after every column"),  # the last column is on the proved side
        (50000, None, 3, ", at or after every column"),
        (1000, 1001, 0, ", before every column"),
    ],
)
def test_a_boundary_off_the_columns_is_drawn_on_the_edge_and_said(write, proved, refuted, after, where) -> None:
    """The dashed line falls after the last column at or before the boundary; where that is the last
    column (or none), on the map's right (or left) edge, and the note says so (it was not drawn at
    all: a --boundary sweep whose values stop at the proved value showed no boundary on its map).
    Every text fits the drawing's width (SVG clips what overflows it)."""
    import attrs

    from solvent.reports.plots import text_width
    from solvent.reports.simulation_sweep import CELL_W, LABEL_W, grid_map, heat_map

    prepared = prepare(BINANCE, write(JUMPY))
    base = sweep(prepared, "scenario.path.max_move_ppm", [2000, 8000, 16000], paths=2, seed=1)
    told = {"proved_at_ppm": proved, "refuted_at_ppm": refuted, "boundary": f"{proved:,} ppm", "question": "safe-move"}
    page = heat_map(attrs.evolve(base, threshold=told))
    edge = LABEL_W + after * CELL_W - 1
    assert f'<line x1="{edge}" ' in page
    note = f"dashed: z3 boundary: {proved:,} ppm{where}"
    assert f">{note}</text>" in page
    width = float(page.split('viewBox="0 0 ')[1].split(" ")[0])
    assert width >= LABEL_W + text_width(note, 10)
    row = attrs.evolve(base, threshold=told, fixed=("scenario.book.insurance_fund_ppm", 0))
    grid = grid_map([row], "P(bad debt)", ("probabilities", "bad_debt"), "p")
    assert f'<line x1="{edge}" ' in grid and (where[2:] in grid if where else True)
    axes = "rows: scenario.book.insurance_fund_ppm; columns: scenario.path.max_move_ppm"
    assert f">{axes}</text>" in grid and float(grid.split('viewBox="0 0 ')[1].split(" ")[0]) >= text_width(axes, 10)


def test_the_edge_json_is_the_same_on_one_or_two_workers(edge_at_one_worker: tuple[str, str], tmp_path: Path) -> None:
    """The threshold's effort units are in the JSON: each question is asked as a fresh process
    would ask it (effort.question), so a second run in the same process, after other work, on two
    workers, writes the same bytes."""
    scenario, one = edge_at_one_worker
    out = tmp_path / "w2.json"
    done = invoke("simulate", "binance", "--scenario", scenario, *EDGE_ARGS, "--workers", "2", "--output", str(out))
    assert done.exit_code == 0, done.output
    assert out.read_text() == one
    assert json.loads(one)["sweeps"][0]["threshold"]["units"] > 0


class TestGrid:
    """``--sweep`` twice: a grid over two fields, one row per value of the first (or of the field no
    threshold question varies, with ``--boundary``), each cell the plain run of its variant."""

    ARGS = (
        "--sweep",
        "scenario.path.max_move_ppm=2000,8000,16000",
        "--sweep",
        "fees.taker_ppm=0,2000",
    )

    def test_each_cell_is_its_variants_run_and_each_row_has_its_boundary(self, write, tmp_path: Path) -> None:
        from solvent.simulation.run import simulate

        scenario = write(JUMPY)
        out = tmp_path / "grid.json"
        done = invoke(
            "simulate", "binance", "--scenario", str(scenario), "--paths", "6", "--boundary", "--format", "json",
            "--output", str(out), *self.ARGS,
        )  # fmt: skip
        assert done.exit_code == 0, done.output
        assert "threshold safe-move at fees.taker_ppm=2,000: 8,000 ppm (0.8%)" in done.output
        data = json.loads(out.read_text())
        rows = data["sweeps"]
        # the field a question varies goes along the columns, though it was given first
        assert [r["fixed"] for r in rows] == [
            {"field": "fees.taker_ppm", "value": 0},
            {"field": "fees.taker_ppm", "value": 2000},
        ]
        assert {r["field"] for r in rows} == {"scenario.path.max_move_ppm"}
        assert [[p["value"] for p in r["points"]] for r in rows] == [[2000, 8000, 16000]] * 2
        assert [(r["threshold"]["proved_at_ppm"], r["threshold"]["refuted_at_ppm"]) for r in rows] == [(8000, 8001)] * 2
        prepared = prepare(BINANCE, scenario)
        for r, fee in enumerate((0, 2000)):
            for c, cap in enumerate((2000, 8000, 16000)):
                cell = variant(variant(prepared, "fees.taker_ppm", fee), "scenario.path.max_move_ppm", cap)
                alone = simulate(cell, paths=6, seed=data["seed"]).summary
                assert rows[r]["points"][c]["summary"] == json.loads(json.dumps(alone))
        # no bad debt with every move within the maintenance rate (0.4%), some beyond it, at either fee
        bad = [[p["summary"]["probabilities"]["bad_debt"]["count"] for p in r["points"]] for r in rows]
        assert all(row[0] == 0 and row[2] > 0 for row in bad)

    def test_the_heat_maps_draw_each_rows_boundary_and_the_page_is_the_same_twice(
        self, write, tmp_path: Path, monkeypatch
    ) -> None:
        """One ``simulate --boundary`` run's page, then the same run's sweeps drawn again: the same
        bytes (no time, no random ids in the page). The run's own determinism (each cell its
        variant's plain run, the same seeds) is the JSON test's above; a second run here cost about
        3.5 s of CPU for no check of its own (session 28)."""
        import solvent.reports.simulation_sweep as simulation_sweep
        from solvent.reports.simulation_sweep import CELL_W, HEAT_ROWS, LABEL_W

        drawn = []
        render_html = simulation_sweep.render_html

        def keep(sweeps):  # noqa: ANN001, ANN202
            drawn.append(sweeps)
            return render_html(sweeps)

        monkeypatch.setattr(simulation_sweep, "render_html", keep)
        out = tmp_path / "a.html"
        done = invoke(
            "simulate", "binance", "--scenario", str(write(JUMPY)), "--paths", "4", "--boundary", "--format", "html",
            "--output", str(out), *self.ARGS,
        )  # fmt: skip
        assert done.exit_code == 0, done.output
        page = out.read_text()
        [sweeps] = drawn
        assert render_html(sweeps) == page
        assert page.count("<svg") == len(HEAT_ROWS)  # one map per estimate
        edge = LABEL_W + 2 * CELL_W - 1  # after the 8,000 column, in each of the two rows
        assert page.count(f'<line x1="{edge}" ') == 2 * len(HEAT_ROWS)
        assert "safe-move boundary on each row" in page
        assert page.count("sweep of scenario.path.max_move_ppm over 3 values at fees.taker_ppm = ") == 2

    @pytest.mark.parametrize(
        ("extra", "message"),
        [
            (("--sweep", "fees.taker_ppm=0,1"), "at most two fields (a grid), given 3"),
            (("--sweep", "liquidation.penalty_ppm=0"), "'penalty_ppm' must be <= 1000000: 2000000"),
        ],
    )
    def test_bad_grids_are_refused_before_any_path_runs(self, write, tmp_path: Path, extra, message) -> None:
        scenario = str(write(JUMPY))
        out = tmp_path / "never.json"
        args = ["--sweep", "liquidation.penalty_ppm=0,2000000", *extra]
        if "fees" in extra[1]:
            args = ["--sweep", "liquidation.penalty_ppm=0,1", "--sweep", "scenario.book.insurance_fund_ppm=0", *extra]
        else:
            args = ["--sweep", "scenario.book.insurance_fund_ppm=0,1", "--sweep", "liquidation.penalty_ppm=0,2000000"]
        done = invoke("simulate", "binance", "--scenario", scenario, "--format", "json", "--output", str(out), *args)
        assert done.exit_code == 2 and message in done.output and "Traceback" not in done.output
        assert not out.exists()

    def test_the_same_field_twice_is_refused(self, write) -> None:
        done = invoke(
            "simulate", "binance", "--scenario", str(write(JUMPY)),
            "--sweep", "liquidation.penalty_ppm=0,1", "--sweep", "liquidation.penalty_ppm=2,3",
        )  # fmt: skip
        assert (
            done.exit_code == 2 and "a grid sweeps two different fields: liquidation.penalty_ppm twice" in done.output
        )

    def test_a_grid_writes_the_same_json_on_one_or_two_workers(self, write, tmp_path: Path) -> None:
        scenario = str(write(JUMPY))
        texts = []
        for workers in ("1", "2"):
            out = tmp_path / f"w{workers}.json"
            done = invoke(
                "simulate", "binance", "--scenario", scenario, "--paths", "4", "--batch", "2", "--workers", workers,
                "--sweep", "liquidation.penalty_ppm=0,10000", "--sweep", "scenario.book.insurance_fund_ppm=0,50000",
                "--format", "json", "--output", str(out),
            )  # fmt: skip
            assert done.exit_code == 0, done.output
            texts.append(out.read_text())
        assert texts[0] == texts[1]
        rows = json.loads(texts[0])["sweeps"]
        assert [r["fixed"]["value"] for r in rows] == [0, 10000]
        assert all(r["threshold"] is None for r in rows)
