"""The linearizer's reads of z3 terms (``solver.nodes``) answer as z3's Python API does, and a
question built with them is the question built without them, term for term and id for id.

``Nodes`` reads each node once through the C API and keeps what it read with the node;
``PlainNodes`` asks z3's Python API every time and keeps nothing (the reference). A memo that
answered for the wrong node (filed under an address z3 gave to another term, or under another
node's id) would build other terms: the differential tests below compare whole questions.
"""

from __future__ import annotations

import gc
import hashlib

import pytest
import z3

import solvent.solver.query as query_module
from solvent.properties import catalog
from solvent.rules.presets import load_preset
from solvent.solver import effort
from solvent.solver.bounds import Bounds, for_policy
from solvent.solver.linearize import Linearizer
from solvent.solver.nodes import Nodes, PlainNodes
from solvent.solver.side_facts import product_magnitude_facts, product_sign_facts, shared_factor_facts

#: (preset, claim, traders): questions whose linearized terms differ in kind (binance's ADL queue
#: by rank and its scores, at three traders a queue of two, hyperliquid's position phases, okx's
#: conservation with its frames, proved by z3 inside the build)
# two readers of the same nodes: the small questions in the default suite, the larger builds deep
# (binance's no-negative-equity at N = 3 and okx's conservation were 27 s of it at load 8)
_DEEP = pytest.mark.deep
QUESTIONS = [
    ("binance", "deficit-charged-once", 2),
    pytest.param("binance", "no-negative-equity", 3, marks=_DEEP),
    ("hyperliquid", "deficit-charged-once", 2),
    pytest.param("okx", "conservation", 2, marks=_DEEP),
]


def _digest(formulas: list[z3.ExprRef]) -> tuple[str, str]:
    """Two digests of ``formulas``: their structure (each node by its operator's name, sort and
    numeral, then its children) and, in walk order, each node's z3 id."""
    shape: dict[int, bytes] = {}
    ids = hashlib.sha256()
    whole = hashlib.sha256()
    for f in formulas:
        stack: list[tuple[z3.ExprRef, bool]] = [(f, False)]
        while stack:
            node, done = stack.pop()
            key = node.get_id()
            if key in shape:
                continue
            kids = node.children() if z3.is_app(node) else []
            if not done:
                ids.update(key.to_bytes(8, "little"))
                stack.append((node, True))
                stack.extend((c, False) for c in reversed(kids))
                continue
            head = node.as_string() if z3.is_int_value(node) else f"{node.decl().name()}:{node.sort()}"
            h = hashlib.blake2b(head.encode(), digest_size=16)
            for c in kids:
                h.update(shape[c.get_id()])
            shape[key] = h.digest()
        whole.update(shape[f.get_id()])
    return whole.hexdigest(), ids.hexdigest()


def _built(preset: str, claim: str, traders: int, reader: type) -> tuple[tuple[str, str], int, int]:
    """The question ``prove`` builds (the claim and the transfers), its linearizer reading nodes
    with ``reader``, in a fresh z3 context: the digests of everything the solver is given and of
    the goals, its build units and its products."""
    policy = load_preset(preset)
    invariant = catalog.get(claim)
    bounds = for_policy(Bounds(accounts=traders), policy)
    made = query_module.Linearizer

    def linearizer() -> Linearizer:
        return made(nodes=reader())

    query_module.Linearizer = linearizer  # type: ignore[assignment, misc]
    try:
        with effort.question():
            query = query_module.StoryQuery(policy, invariant, bounds, obligations=(invariant, None))
            formulas = list(query.solver.assertions()) + [g for g in query.goals.values() if z3.is_expr(g)]
            formulas += [t for t in query.sum_terms + query.opaque_terms if z3.is_expr(t)]
            assert query.linearizer is not None
            return _digest(formulas), query.build_units, len(query.linearizer.products)
    finally:
        query_module.Linearizer = made  # type: ignore[misc]


@pytest.mark.parametrize(("preset", "claim", "traders"), QUESTIONS)
def test_a_question_is_built_the_same_with_either_reader(preset: str, claim: str, traders: int) -> None:
    """The same formulas, the same z3 ids, the same build units, whichever reads the nodes."""
    plain = _built(preset, claim, traders, PlainNodes)
    fast = _built(preset, claim, traders, Nodes)
    assert fast == plain
    assert plain[2] > 0  # the question has products: the linearizer did rewrite it


def _engine_formulas() -> list[z3.BoolRef]:
    """A question's formulas, read node by node below."""
    policy = load_preset("binance")
    invariant = catalog.get("deficit-charged-once")
    query = query_module.StoryQuery(policy, invariant, for_policy(Bounds(accounts=2), policy), obligations=(invariant,))
    return [query_module._bool(a.holds) for a in query.assumptions] + list(query.violations.values())


def test_every_read_answers_as_the_python_api() -> None:
    """On every node of a question: the id, the operator, whether it is an integer numeral, its
    value, and its children (the same terms, wrapped in the same classes), asked twice."""
    with effort.question():
        formulas = _engine_formulas()
        fast, plain = Nodes(), PlainNodes()
        seen: set[int] = set()
        stack = list(formulas)
        kinds: set[int] = set()
        while stack:
            node = stack.pop()
            if node.get_id() in seen:
                continue
            seen.add(node.get_id())
            for _ in range(2):
                assert fast.id(node) == node.get_id()
                assert fast.kind(node) == plain.kind(node)
                assert fast.numeral(node) == z3.is_int_value(node)
                if fast.numeral(node):
                    assert fast.value(node) == node.as_long()
                kids = fast.children(node)
                assert [type(k) for k in kids] == [type(k) for k in node.children()]
                assert all(a.eq(b) for a, b in zip(kids, node.children(), strict=True))
                assert len(kids) == len(node.children())
            kinds.add(fast.kind(node))
            stack.extend(node.children())
        assert {z3.Z3_OP_ITE, z3.Z3_OP_ADD, z3.Z3_OP_MUL, z3.Z3_OP_ANUM, z3.Z3_OP_UNINTERPRETED} <= kinds
        assert len(seen) > 1_000


def test_a_read_is_never_another_terms() -> None:
    """Outside a question z3 frees a term once Python lets go of it and gives its address and id to
    the next term it makes; a memo that kept what it read without the node would then answer for
    a freed term. ``Nodes`` holds each node it read, so every answer is the asked term's own."""
    assert not effort._ASKING  # releases pass straight through here
    gc.collect()
    nodes = Nodes()
    for i in range(300):
        x = z3.Int(f"fresh{i}")
        term = x + i if i % 2 else x * (i + 2) - 1
        stack = [term]
        while stack:  # every node of the term, each asked of the memo and of z3
            node = stack.pop()
            assert nodes.id(node) == node.get_id()
            assert nodes.kind(node) == (node.decl().kind() if z3.is_app(node) else -1)
            kids = nodes.children(node)
            assert len(kids) == node.num_args() and all(a.eq(b) for a, b in zip(kids, node.children(), strict=True))
            stack.extend(node.children())
        del x, term, node, kids


def test_side_facts_are_the_python_apis_formulas() -> None:
    """The side facts built as bare handles (``side_facts.Raw``) are the very terms z3's Python
    operators build from the formulas as written (z3 shares equal terms: ``eq`` is identity)."""
    p, a, b, f, big_b = z3.Ints("p a b f B")
    sign = [  # with Python's 0: a numeral term on the right would be asked first (a subclass's ``==``)
        (p == 0) == z3.Or(a == 0, b == 0),
        (p > 0) == z3.Or(z3.And(a > 0, b > 0), z3.And(a < 0, b < 0)),
    ]
    assert all(x.eq(y) for x, y in zip(product_sign_facts(p, a, b), sign, strict=True))
    magnitude = []
    for x, y in ((a, b), (b, a)):
        magnitude += [
            z3.Implies(z3.And(x >= 1, y >= 0), p >= y),
            z3.Implies(z3.And(x >= 1, y <= 0), p <= y),
            z3.Implies(z3.And(x <= -1, y >= 0), p <= -y),
            z3.Implies(z3.And(x <= -1, y <= 0), p >= -y),
            z3.Implies(x == 1, p == y),
            z3.Implies(x == -1, p == -y),
        ]
    assert all(x.eq(y) for x, y in zip(product_magnitude_facts(p, a, b), magnitude, strict=True))
    assert product_magnitude_facts(p, a, a)[-1].eq(p >= 0) and len(product_magnitude_facts(p, a, b)) == 12
    shared = []
    for whole, part in ((p + big_b, a + b), (p - big_b, a - b)):
        same_zero = (whole == 0) == (part == 0)
        shared += [
            z3.Implies(f > 0, z3.And((whole > 0) == (part > 0), same_zero)),
            z3.Implies(f < 0, z3.And((whole > 0) == (part < 0), same_zero)),
        ]
    assert all(x.eq(y) for x, y in zip(shared_factor_facts(f, p, a, big_b, b), shared, strict=True))


def test_the_linearizer_reads_with_nodes_by_default() -> None:
    """A linearizer built as ``StoryQuery`` builds it reads through the memo (the fast path the
    differential tests compare)."""
    assert isinstance(Linearizer().nodes, Nodes)
