"""Whether a sum of ``if``s over Boolean conditions and integer constants is 0 for every choice of
the conditions, decided by splitting on one condition at a time.

A frame lemma's gap, once every comparison and product is abstracted and the gap is split into its
coefficients (``solver.compositional.coefficients``), is a term of this kind: ``if``s nested as the
engine's sweep nests its branches, sums of them, integer constants at the leaves, and fresh
Booleans for the conditions. The claim "the piece is 0" is an identity of the sweep's bookkeeping
(a position moves by exactly its fills), not arithmetic.

z3's SMT core, asked this after lifting the ``if``s to clauses (``elim-term-ite``), does the case
split as a SAT search over linear arithmetic: a sum of ``if``s that cancels term by term is, for
clause learning, an adder circuit's equivalence, and it costs millions of units. Measured on
BitMEX's mark move, where the insurance fund's own deleveraging (``rules/pool_bankruptcy.py``)
runs before the sweep: the fund's position gap had 5 pieces of about 300 nodes over some 30
conditions; z3 spent 23.2M units on them (29.2M in a ``solvent check`` run), bit-blasted 89.9M.

Split instead (Shannon expansion): take the first condition met depth first from the root (the
outermost branch of the sweep), put ``True`` and then ``False`` for it, and let z3's simplifier
fold the term; a term with no condition left is a numeral. Most branches fold to 0 within a
few splits, and a term met again on another path is answered from a memo (the same folded term,
the same answer), so the split is a decision diagram of the term: the same 5 pieces take 46-54
splits each. Both branches of every split are followed, so 0 at every leaf means 0 for every
choice of the conditions (valid), and the first leaf that is not 0 is a choice of the conditions
where the piece is not 0 (a model of its negation).

Each split costs one build step (``solvent.solver.effort.BUILD_STEP`` units): Solvent's own work,
counted as a question's building is, so the answer is the same on any machine; a split that would
pass the budget stops with ``"unknown"``.
"""

from __future__ import annotations

import sys
from typing import Any

import attrs
import z3

from solvent.solver import effort, fast_terms
from solvent.solver.effort import BUILD_STEP
from solvent.solver.nodes import Nodes, c_function
from solvent.solver.per_account import constants, integer_atoms


@attrs.frozen
class Split:
    """The answer for one piece: ``"unsat"`` (0 for every choice: the negation has no model),
    ``"sat"`` (a choice of conditions where it is not 0), or ``"unknown"`` (the budget ran out),
    and the units its splits cost."""

    result: str
    units: int


class _OutOfSplits(Exception):
    pass


def _first_condition(term: Any) -> Any:
    """The first free Boolean met depth first from the root (None when the term has none)."""
    seen: set[int] = set()
    stack = [term]
    while stack:
        e = stack.pop()
        key = e.get_id()
        if key in seen:
            continue
        seen.add(key)
        if z3.is_const(e):
            if z3.is_bool(e) and not (z3.is_true(e) or z3.is_false(e)):
                return e
            continue
        stack.extend(reversed(e.children()))
    return None


#: answers already found in the current z3 context, by the piece's term id (the term kept, so
#: its id is not reused): a question that proves a frame lemma and then hands the same frame to
#: its direct check (``solver.frames``) splits each piece once. Forgotten at the start of every
#: ``solver.prove.prove`` call (:func:`forget`) and with the context, so what one question found
#: never changes another's units.
_FOUND: dict[int, tuple[Any, str]] = {}
_CONTEXT: list[Any] = [None]


def forget() -> None:
    """Start a question with nothing remembered (see ``_FOUND``)."""
    _FOUND.clear()
    _CONTEXT[0] = None


def remember(term: Any, result: str) -> None:
    """Record that ``term`` (an integer term, as built: not simplified) is 0 for every value
    (``"unsat"``) in this question: an equation proved once, by the frame lemma F on the lemmas'
    book, and asked again of the same terms by a bounded question's frame (``solver.frames``),
    where z3's simplifier, which orders a sum by its terms' numbers, may shape the gap otherwise
    (docs/solver-notes.md#settlement-as-proved-facts)."""
    if z3.is_expr(term):
        _remembered(term)  # the context's memory (cleared where the context changed)
        _FOUND[term.get_id()] = (term, result)


def recalled(term: Any) -> str | None:
    """What :func:`remember` recorded of ``term`` in this question, or None."""
    return _remembered(term) if z3.is_expr(term) else None


def _remembered(piece: Any) -> str | None:
    if _CONTEXT[0] is not piece.ctx:
        _FOUND.clear()
        _CONTEXT[0] = piece.ctx
    hit = _FOUND.get(piece.get_id())
    return None if hit is None else hit[1]


#: splits a piece gets per condition it holds (and a few more) before the split gives up and the
#: caller asks z3 instead: BitMEX's pieces take 46-54 splits over about 30 conditions; Hyperliquid's
#: position gaps (its vault's ADL at the previous mark) 9-12K splits over fewer than 100, where z3's
#: case split decides them in less (docs/solver-notes.md#splitting-on-the-conditions-instead-of-asking-z3)
SPLITS_PER_CONDITION = 10
SPLITS_AT_LEAST = 50


def split_budget(piece: Any) -> int:
    """The units :func:`vanishes` is worth on ``piece`` before z3's case split is the better bet."""
    conditions = sum(1 for e in constants(piece) if z3.is_bool(e) and not (z3.is_true(e) or z3.is_false(e)))
    return BUILD_STEP * (SPLITS_PER_CONDITION * conditions + SPLITS_AT_LEAST)


def _split(piece: Any, budget: int, *, linear_leaves: bool) -> Split:
    """The Shannon expansion shared by :func:`vanishes` and :func:`linear_form_vanishes`: a leaf
    with no condition left is a numeral, or (``linear_leaves``) a linear form of integer atoms,
    which is 0 for every value exactly when z3's simplifier folds it to the numeral 0 (like terms
    summed); a leaf it does not fold to 0 stops the split as ``"unknown"`` there, not ``"sat"``."""
    known = _remembered(piece)
    if known is not None:
        return Split(known, 0)
    memo: dict[int, tuple[Any, bool]] = {}  # id -> (the term, kept alive so its id is not reused; zero?)
    spent = 0

    def zero(e: Any) -> bool:
        nonlocal spent
        key = e.get_id()
        if key in memo:
            return memo[key][1]
        if z3.is_int_value(e):
            out = e.as_long() == 0
        else:
            condition = _first_condition(e)
            if condition is None:  # an integer atom left: a linear leaf, or not a piece of this kind
                raise _OutOfSplits
            out = True
            for value in (z3.BoolVal(True, e.ctx), z3.BoolVal(False, e.ctx)):
                spent += BUILD_STEP
                if spent > budget:
                    raise _OutOfSplits
                if not zero(z3.simplify(z3.substitute(e, (condition, value)))):
                    out = False
                    break
        memo[key] = (e, out)
        if linear_leaves and not out:
            raise _OutOfSplits  # a leaf not folded to 0: undecided here (the pieces are asked next)
        return out

    try:
        found = zero(z3.simplify(piece))
    except _OutOfSplits:
        effort.count(min(spent, budget))  # Solvent's own steps, counted as a z3 check's units are
        return Split("unknown", min(spent, budget))
    result = "unsat" if found else "sat"
    _FOUND[piece.get_id()] = (piece, result)
    effort.count(spent)
    return Split(result, spent)


def linear_form_vanishes(rough: Any, budget: int) -> Split:
    """Whether an abstracted gap (:func:`abstracted`: ``if``s over Boolean atoms, linear in its
    integer atoms) is 0 for every value, split whole on its conditions within ``budget`` units:
    ``"unsat"`` when every leaf folds to 0, else ``"unknown"`` (never ``"sat"``: a leaf that does
    not fold may still be 0, and :func:`coefficients` then asks piece by piece). One split tree
    for the whole gap instead of one per coefficient: the pieces share the gap's ``if`` tree, and
    a gap over many products (Drift's lending book: about 48 pieces a gap, each 12 splits) pays for
    its tree once."""
    split = _split(rough, budget, linear_leaves=True)
    return split if split.result == "unsat" else Split("unknown", split.units)


def vanishes(piece: Any, budget: int) -> Split:
    """Whether the integer term ``piece`` (``if``s over Boolean conditions, sums, integer
    constants) is 0 for every value of its Boolean conditions, within ``budget`` units (one build
    step a split). A piece that holds an integer variable is not of this kind: ``"unknown"``. A
    piece already decided in this z3 context costs nothing the second time."""
    return _split(piece, budget, linear_leaves=False)


_get_app_decl = c_function("Z3_get_app_decl")
_get_ast_id = c_function("Z3_get_ast_id")
_func_decl_to_ast = c_function("Z3_func_decl_to_ast")

_CONNECTIVES = frozenset(
    {z3.Z3_OP_AND, z3.Z3_OP_OR, z3.Z3_OP_NOT, z3.Z3_OP_TRUE, z3.Z3_OP_FALSE, z3.Z3_OP_IMPLIES, z3.Z3_OP_XOR}
)
_LINEAR = frozenset({z3.Z3_OP_ADD, z3.Z3_OP_SUB, z3.Z3_OP_UMINUS})
#: comparisons :func:`abstraction` reads as one Boolean per test: ``a ≤ b`` (also written ``b ≥ a``)
#: and ``a = b`` on integers (z3's simplifier, which every term meets first, writes ``a < b`` as
#: ``¬(b ≤ a)``)
_ORDER = {z3.Z3_OP_LE: 0, z3.Z3_OP_GE: 0, z3.Z3_OP_EQ: 1}
#: connectives whose arguments :func:`abstraction` sorts (their order does not change the value)
_COMMUTATIVE = frozenset({z3.Z3_OP_AND, z3.Z3_OP_OR, z3.Z3_OP_EQ, z3.Z3_OP_XOR})


def abstracted(terms: list[Any]) -> list[Any]:
    """Integer ``terms`` with every arithmetic comparison inside them replaced by a fresh Boolean
    and every product, quotient or remainder of variables by a fresh integer (the same subterm,
    the same variable, across all the terms; see :func:`abstraction`).

    What is kept is the Boolean structure of the ``if``s and the linear sums. A claim about the
    abstracted terms that is valid is valid for the terms themselves (it holds for every value of
    the abstracted atoms, the real ones included); the converse fails, so a counterexample to it
    proves nothing and the exact claim is asked next.
    """
    return abstraction(terms)[0]


def abstraction(terms: list[Any]) -> tuple[list[Any], dict[str, Any]]:
    """:func:`abstracted`'s terms, and what each fresh atom stands for (its name -> one real term
    it replaced).

    An atom is shared by every subterm that is the same once abstracted, not only by the same z3
    term (congruence): its operation, and its arguments' abstractions, with the arguments of a
    sum, a conjunction, a disjunction or an iff sorted, and a comparison read as a difference
    (``X ≥ 0`` is ``0 ≤ X``, ``x ≥ 3 + y`` is ``y ≤ −3 + x``: ``y − x + 3 ≤ 0``; ``a = b`` is
    ``b = a``). The engine computes one test in several places (a flat account's loan test reads
    a margin equity built once in each of two branches), and z3's simplifier writes one test in
    different shapes in different places (``max_(x·y, 0)``'s sign test a disjunction whose order
    follows its surroundings); read as independent atoms, their conditions meet on a split path
    that no value reaches (docs/solver-notes.md#one-test-one-atom). Sound: two subterms given one
    atom have one value for every value of the variables (by induction, their arguments do), so
    every value of the real terms is still a value of the atoms."""
    # id -> (the term, kept alive so its id is not reused; its image; its canonical image): the
    # image keeps the term's order of arguments (the split's order of conditions follows it), the
    # canonical image sorts them, and only keys read it
    memo: dict[int, tuple[Any, Any, Any]] = {}
    atoms: dict[tuple[int, ...], tuple[Any, Any]] = {}  # an atom's key -> (what its key reads, kept alive; its atom)
    meaning: dict[str, Any] = {}
    count = 0
    # the terms are read through the C API once a node (``solver.nodes``) and rebuilt by the C
    # calls z3's functions make (``solver.fast_terms``): the same terms, made in the same order
    # (session 30: z3's Python binding's per-object work was most of a large split's build)
    nodes = Nodes()
    ident, kind_of, numeral, children = nodes.id, nodes.kind, nodes.numeral, nodes.children

    def atom(e: Any, key: tuple[int, ...], kept: Any, boolean: bool) -> Any:
        nonlocal count
        if key not in atoms:
            count += 1
            name = f"abs.b{count}" if boolean else f"abs.i{count}"
            fresh = z3.Bool(name) if boolean else z3.Int(name)
            atoms[key] = (kept, fresh)
            meaning[name] = e  # ``str(fresh)``: a plain name prints as itself
        return atoms[key][1]

    def ordered(parts: list[Any]) -> list[Any]:
        return sorted(parts, key=ident)

    def decl_id(e: Any) -> int:
        """``e.decl().get_id()``."""
        ref = e.ctx.ctx
        return _get_ast_id(ref, _func_decl_to_ast(ref, _get_app_decl(ref, e.ast)))

    def comparison(e: Any, op: int, args: list[Any]) -> Any:
        if op not in _ORDER or len(args) != 2:
            parts = [canon(a) for a in args]
            return atom(e, (decl_id(e), *(ident(x) for x in parts)), parts, boolean=True)
        a, b = (canon(x) for x in args)
        if op == z3.Z3_OP_GE:
            a, b = b, a
        # ``a ≤ b`` read as ``a − b ≤ 0`` (z3's simplifier moves constants and terms across:
        # ``x ≥ 3 + y`` and ``y ≤ −3 + x`` are one test), ``a = b`` as ``a − b = 0`` and as
        # ``b − a = 0`` (one atom under both keys)
        difference = z3.simplify(a - b)
        if op == z3.Z3_OP_EQ:
            other = z3.simplify(b - a)
            either = (-1 - _ORDER[op], other.get_id())
            if either not in atoms:
                atoms[either] = (other, atom(e, (-1 - _ORDER[op], difference.get_id()), difference, boolean=True))
            return atoms.setdefault((-1 - _ORDER[op], difference.get_id()), (difference, atoms[either][1]))[1]
        return atom(e, (-1 - _ORDER[op], difference.get_id()), difference, boolean=True)

    def go(e: Any) -> Any:
        return both(e)[0]

    def canon(e: Any) -> Any:
        return both(e)[1]

    def both(e: Any) -> tuple[Any, Any]:
        key = ident(e)
        if key in memo:
            return memo[key][1], memo[key][2]
        op = kind_of(e)
        if op == -1:  # not an application (never in a split's terms): z3 raises, as it did here
            op = e.decl().kind()
        args = children(e)
        if not args or numeral(e):  # ``z3.is_const(e) or z3.is_int_value(e)``
            out = same = e
        else:
            ctx = e.ctx
            if op == z3.Z3_OP_ITE:
                out = fast_terms.ite(go(args[0]), go(args[1]), go(args[2]))
                same = fast_terms.ite(canon(args[0]), canon(args[1]), canon(args[2]))
            elif isinstance(e, z3.BoolRef):
                # a Boolean equality (an iff) is a connective too: its sides are abstracted
                iff = op in (z3.Z3_OP_EQ, z3.Z3_OP_DISTINCT) and isinstance(args[0], z3.BoolRef)
                if op in _CONNECTIVES or iff:
                    decl = _get_app_decl(ctx.ctx, e.ast)
                    out = fast_terms.apply(decl, [go(a) for a in args], ctx)
                    parts = [canon(a) for a in args]
                    same = fast_terms.apply(decl, ordered(parts) if op in _COMMUTATIVE else parts, ctx)
                else:
                    out = same = comparison(e, op, args)
            elif op in _LINEAR:
                decl = _get_app_decl(ctx.ctx, e.ast)
                parts = [go(a) for a in args]
                out = fast_terms.sum_(parts) if op == z3.Z3_OP_ADD else fast_terms.apply(decl, parts, ctx)
                parts = [canon(a) for a in args]
                same = fast_terms.sum_(ordered(parts)) if op == z3.Z3_OP_ADD else fast_terms.apply(decl, parts, ctx)
            elif op == z3.Z3_OP_MUL and sum(not numeral(a) for a in args) <= 1:
                decl = _get_app_decl(ctx.ctx, e.ast)
                out = fast_terms.apply(decl, [go(a) for a in args], ctx)
                same = fast_terms.apply(decl, [canon(a) for a in args], ctx)
            else:
                parts = [canon(a) for a in args]  # a product's factors as z3's simplifier orders them
                out = same = atom(e, (decl_id(e), *(ident(x) for x in parts)), parts, boolean=False)
        memo[key] = (e, out, same)
        return out, same

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 200_000))
    try:
        return [go(z3.simplify(t)) for t in terms], meaning
    finally:
        sys.setrecursionlimit(limit)


def coefficients(rough: Any) -> list[Any]:
    """An abstracted gap (:func:`abstracted`) split into its constant and its coefficients, those
    that do not simplify to 0: the gap is 0 for every value exactly when every piece is.

    Once abstracted, a gap is linear in its integer atoms for every value of its Boolean atoms
    (products and quotients of variables became atoms, and no ``if`` condition holds an integer),
    so it is ``Σ c_x(b)·x + d(b)`` with the atoms ``x`` free and independent. A linear form that
    vanishes on every integer point has every coefficient and its constant 0. By linearity
    ``d(b)`` is the gap with every atom at 0, and ``c_x(b)`` the gap with ``x`` at 1 and the
    others at 0, minus ``d(b)``. Each piece holds only Boolean atoms and integer constants: a
    question for the case split of ``if``s, not for arithmetic, which is what z3 is then asked
    (docs/solver-notes.md#the-frame-lemma-is-an-identity-of-ifs). Measured on Binance's mark move:
    the frame lemma's four open gaps cost 9.5M units asked whole and 0.25M asked this way."""
    atoms = integer_atoms(rough)
    zero = [(x, z3.IntVal(0)) for x in atoms]
    base = z3.simplify(z3.substitute(rough, *zero)) if atoms else z3.simplify(rough)
    pieces = [base]
    for i, x in enumerate(atoms):
        unit = zero[:i] + [(x, z3.IntVal(1))] + zero[i + 1 :]
        pieces.append(z3.simplify(z3.substitute(rough, *unit) - base))
    return [p for p in pieces if not (z3.is_int_value(p) and p.as_long() == 0)]


def smt_case_split() -> Any:
    """z3's solver for a piece: ``if``s lifted to fresh variables with their defining clauses
    (z3's ``elim-term-ite``), then z3's SMT core, which does the case split as SAT search."""
    return z3.Then("simplify", "elim-term-ite", "smt").solver()


def decide(piece: Any, budget: int, safety_s: float | None = None) -> Split:
    """Whether ``piece`` is 0 for every value of its conditions: split on them for at most
    :func:`split_budget` units, then z3's case split (:func:`smt_case_split`) with what is left of
    ``budget`` (its units counted the same way; ``safety_s``: the wall-clock safety net)."""
    split = vanishes(piece, min(budget, split_budget(piece)))
    if split.result != "unknown" or split.units >= budget:
        return split
    solver = smt_case_split()
    solver.add(piece != 0)
    left = budget - split.units
    solved = effort.solve(solver, left, effort.safety_net_s(left) if safety_s is None else safety_s)
    return Split(solved.result, split.units + solved.units)


def identity_holds(gap: Any, budget: int) -> Split:
    """Whether the integer term ``gap`` is 0 for every value of its variables, decided as the frame
    lemma is (docs/solver-notes.md#the-frame-lemma-is-an-identity-of-ifs): every comparison and
    product :func:`abstracted`, the result split into its :func:`coefficients`, each piece
    decided (:func:`decide`) within what is left of ``budget``. ``"unsat"`` means the gap is 0 for every
    value (valid for the abstraction, so for the real terms); ``"sat"`` only that the abstraction
    has a model (which may be spurious): the identity is not shown, nothing more."""
    if z3.is_int_value(gap):
        return Split("unsat" if gap.as_long() == 0 else "sat", 0)
    (rough,) = abstracted([gap])
    whole = linear_form_vanishes(rough, min(budget, split_budget(rough)))
    if whole.result == "unsat":
        return whole
    spent = whole.units
    for piece in coefficients(rough):
        split = decide(piece, budget - spent)
        spent += split.units
        if split.result != "unsat":
            return Split(split.result, spent)
    return Split("unsat", spent)


__all__ = [
    "Split",
    "abstracted",
    "abstraction",
    "coefficients",
    "decide",
    "forget",
    "identity_holds",
    "linear_form_vanishes",
    "recalled",
    "remember",
    "smt_case_split",
    "split_budget",
    "vanishes",
]
