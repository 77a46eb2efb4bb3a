"""Keep a query linear: purify products and quotients of symbolic terms into fresh variables.

The engine multiplies two state quantities in a few places (``size × price`` in settlement and
notional, ``share × weight / total`` in a pro-rata charge, ``lots × gap`` in ADL, scores in an ADL
ranking). z3's nonlinear integer arithmetic stalls on those at N ≥ 3 (docs/solver-notes.md#where-z3-stalls). A
:class:`Linearizer` rewrites every formula of a query into linear integer arithmetic:

- **Exact rewrites** (same meaning): a product is pushed into an ``ite`` factor whose leaves are
  numerals (a tier rate), that has a zero branch (``when``, ``max(x, 0)``) or few leaves
  (``|size|``); a division by ``safe_divisor(d)`` is split into its two branches.
- **Purification** (a sound over-approximation): products are expanded over their linear
  factors into monomials of two atoms, each a fresh variable; so ``s·(M' − M)`` and ``|s|·M'``
  share the monomials ``s·M'``, ``s·M``, and distributivity comes for free. A product of two
  sums also keeps a variable of its own with its own facts. A division by a symbolic divisor
  becomes a fresh quotient with the Euclidean bracket ``q·D ≤ n < q·D + |D|`` (floor for
  ``D > 0``). The side facts (``solvent.solver.side_facts``) are true of the exact values: zero
  and sign patterns always, magnitudes and units when a spurious model asks for them
  (:meth:`Linearizer.strengthen`).
- **Links** for pro-rata splits: a divisor that is a sum ``D = Σ w`` is named, each
  ``y·D`` is tied to ``Σ y·w`` by distributivity, the quotients sharing ``D`` get ``D·Σq``, and
  products sharing a divisor or quotient factor get sign lemmas for their sums and differences
  (for a divisor, only the products with its own split's numbers: its quotients and the factors
  of their numerators; docs/solver-notes.md#the-pro-rata-split-as-a-proved-lemma).
- **Hints**: for a linear form the caller names (open interest ``Σ size``) each atom that
  multiplies its terms gets the aggregate product, with ``Σ size = 0 → y·Σ size = 0``. That is how
  "open interest is balanced" reaches "settlement nets to zero" without nonlinear reasoning.

Guarantee: every fact holds once each fresh variable takes its exact value (``m = a·b``,
``q = n div d``); so *unsat of the purified query implies unsat of the exact query*. A model of
the purified query may be spurious: :meth:`Linearizer.mismatches` names the definitions it
breaks, for refinement (``solvent.solver.refinement``) or :meth:`Linearizer.definitions`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import z3
from z3.z3 import _to_ast_array

from solvent.solver import effort
from solvent.solver.nodes import Nodes, PlainNodes
from solvent.solver.side_facts import product_magnitude_facts, product_sign_facts, shared_factor_facts, terms

LinearForm = tuple[dict[int, tuple[int, z3.ArithRef]], int]

#: a rewriting pass charges a build step (``solvent.solver.effort``) every this many nodes
CHECK_EVERY = 64
#: pairs of products sharing a factor whose side facts cost one build step
#: (``shared_factor_facts``: about 90 µs a pair on the reference machine, a quarter of a step)
PAIRS_PER_STEP = 4


@attrs.frozen
class Product:
    """``var == left × right`` (left and right are purified atoms or linear terms)."""

    var: z3.ArithRef
    left: z3.ArithRef
    right: z3.ArithRef

    def exact(self) -> z3.BoolRef:
        return self.var == self.left * self.right


@attrs.frozen
class Quotient:
    """``var == numerator div divisor`` (z3's Euclidean division; floor for a positive divisor)."""

    var: z3.ArithRef
    numerator: z3.ArithRef
    divisor: z3.ArithRef

    def exact(self) -> z3.BoolRef:
        return z3.Implies(self.divisor != 0, self.var == self.numerator / self.divisor)


def _kind(e: z3.ExprRef) -> int:
    """``e.decl().kind()`` for an application or numeral, else -1 (without building the decl)."""
    ctx, a = e.ctx_ref(), e.as_ast()
    if z3.Z3_get_ast_kind(ctx, a) not in (z3.Z3_APP_AST, z3.Z3_NUMERAL_AST):
        return -1
    return z3.Z3_get_decl_kind(ctx, z3.Z3_get_app_decl(ctx, a))


def _is_numeral(e: z3.ExprRef) -> bool:
    return z3.is_int_value(e)


def _rebuild(
    e: z3.ExprRef, children: Sequence[z3.ExprRef], old: Sequence[z3.ExprRef], nodes: Nodes | PlainNodes
) -> z3.ExprRef:
    """``e`` with its children (``old``) replaced."""
    if all(nodes.same(a, b) for a, b in zip(old, children, strict=True)):
        return e
    arr, size = _to_ast_array(list(children))
    return z3.z3._to_expr_ref(z3.Z3_update_term(e.ctx.ref(), e.as_ast(), size, arr), e.ctx)


class Linearizer:
    """Rewrites formulas into linear integer arithmetic; one instance per query (shared fresh names).

    Use :meth:`term` on every assertion of the query (assumptions and obligation alike, so one
    product gets one variable), then add :attr:`facts` to the solver.
    """

    def __init__(self, prefix: str = "nl", leaf_limit: int = 4, nodes: Nodes | PlainNodes | None = None) -> None:
        self.prefix = prefix
        #: how the nodes of the formulas are read: once a node, through z3's C API
        #: (``solver.nodes``; ``PlainNodes``, z3's Python API, is the reference the tests compare)
        self.nodes = Nodes() if nodes is None else nodes
        #: the reads (bound once: the linearizer asks them hundreds of thousands of times at N = 8):
        #: a node's id, its operator (``-1`` for a non-application), whether it is an integer
        #: numeral, its value, its children (read once per node: each formula is walked more than once)
        self._id = self.nodes.id
        self._kind = self.nodes.kind
        self._numeral = self.nodes.numeral
        self._value = self.nodes.value
        self._children = self.nodes.children
        self.leaf_limit = leaf_limit
        self.facts: list[z3.BoolRef] = []
        #: facts held back until a model shows they are needed (see :meth:`strengthen`): per
        #: product variable, its factors; the facts are built only when asked for (:meth:`_held`)
        self.lazy: dict[int, tuple[z3.ArithRef, z3.ArithRef, z3.ArithRef]] = {}
        self.products: dict[tuple[int, int], Product] = {}
        #: per factor id, the products it is a factor of (insertion order), with the other factor
        self._by_factor: dict[int, list[tuple[Product, z3.ArithRef]]] = {}
        self.quotients: dict[tuple[int, int], Quotient] = {}
        self._names: dict[int, tuple[z3.ArithRef, z3.ArithRef]] = {}
        self._memo: dict[int, tuple[z3.ExprRef, z3.ExprRef]] = {}
        self._linear: dict[int, tuple[z3.ExprRef, LinearForm]] = {}
        self._atoms_seen: dict[int, z3.ArithRef] = {}
        self._count = 0
        self._core_ids: set[int] = set()
        self._protected: set[int] = set()
        self._keep: list[z3.ExprRef] = []
        #: per node (kept alive with it): its ``ite`` leaves, and whether it is a flat ``ite``
        self._leaf_memo: dict[int, tuple[z3.ExprRef, list[z3.ExprRef] | None]] = {}
        self._leaf_cap = max(64, leaf_limit)
        self._flat_memo: dict[int, tuple[z3.ExprRef, bool]] = {}
        #: the nodes whose divisors are marked
        self._marked: set[int] = set()

    # --- public --------------------------------------------------------------------------------

    @property
    def over_approximates(self) -> bool:
        """Whether any product or quotient was purified (a model may then be spurious)."""
        return bool(self.products or self.quotients)

    def term(self, e: Any) -> Any:
        """``e`` rewritten: exact rewrites applied, nonlinear products and divisions purified."""
        if type(e) in (bool, int):
            return e
        stack = [(e, False)]
        visits = 0
        while stack:
            node, done = stack.pop()
            key = self._id(node)
            if key in self._memo:
                continue
            visits += 1
            if visits % CHECK_EVERY == 0:
                effort.check()
            kids = self._children(node)
            if not done:
                stack.append((node, True))
                stack.extend((c, False) for c in kids if self._id(c) not in self._memo)
                continue
            children = [self._memo[self._id(c)][1] for c in kids]
            result = self._visit(node, children, kids)
            self._memo[key] = (node, result)
            if key in self._core_ids:
                self._protected.add(self._id(result))
        return self._memo[self._id(e)][1]

    def rewrite(self, formulas: Iterable[Any]) -> list[Any]:
        """:meth:`term` of each formula, after marking the divisors of every symbolic division.

        A divisor (and each summand of a divisor that is a sum) stays one atom wherever it is
        multiplied, so the bracket ``q·D ≤ n`` and the products in ``n`` share the factor ``D``.
        """
        formulas = list(formulas)
        for f in formulas:
            if z3.is_expr(f):
                self._mark_divisors(f)
        return [self.term(f) for f in formulas]

    def _mark_divisors(self, e: z3.ExprRef) -> None:
        seen = self._marked
        stack = [e]
        while stack:
            node = stack.pop()
            if self._id(node) in seen:
                continue
            seen.add(self._id(node))
            if len(seen) % CHECK_EVERY == 0:
                effort.check()
            kids = self._children(node)
            if self._kind(node) in (z3.Z3_OP_IDIV, z3.Z3_OP_MOD) and not self._numeral(kids[1]):
                for core in _divisor_cores(kids[1]):
                    self._core_ids.add(self._id(core))
                    self._keep.append(core)
            stack.extend(kids)

    def hint(self, form: Any) -> None:
        """Multiply the linear form by every atom that already multiplies two or more of its atoms."""
        if type(form) is int:
            return
        lin = self._form(self.term(form))
        atoms = lin[0]
        if len(atoms) < 2:
            return
        partners: dict[int, tuple[z3.ArithRef, int]] = {}
        for (a, b), _ in list(self.products.items()):
            for mine, other in ((a, b), (b, a)):
                if mine in atoms:
                    partner = self._atoms_seen.get(other)
                    if partner is None:
                        continue
                    count = partners.get(other, (partner, 0))[1]
                    partners[other] = (partner, count + 1)
        for _, (y, count) in partners.items():
            if count >= 2:
                self._aggregate(y, lin)

    def _add_product_facts(self, p: z3.ArithRef, a: z3.ArithRef, b: z3.ArithRef) -> None:
        """Sign and zero facts now; magnitude and unit facts when a model needs them."""
        self.facts += product_sign_facts(p, a, b)
        self.lazy[self._id(p)] = (p, a, b)

    def _held(self, key: int) -> list[z3.BoolRef]:
        """The held-back facts of the product variable with id ``key`` (once; then none)."""
        factors = self.lazy.pop(key, None)
        return [] if factors is None else product_magnitude_facts(*factors)

    def strengthen(self, items: Iterable[Product | Quotient]) -> list[z3.BoolRef]:
        """The held-back facts about ``items`` (each given once): magnitudes, units, shared factors."""
        out: list[z3.BoolRef] = []
        for item in items:
            out += self._held(self._id(item.var))
        return out

    def mismatches(self, model: z3.ModelRef) -> list[Product | Quotient]:
        """Definitions the model violates (the reason a purified model may be spurious)."""
        out: list[Product | Quotient] = []
        for item in [*self.products.values(), *self.quotients.values()]:
            if not z3.is_true(model.eval(item.exact(), model_completion=True)):
                out.append(item)
        return out

    def definitions(self, items: Iterable[Product | Quotient]) -> list[z3.BoolRef]:
        """The exact (nonlinear) definitions of ``items``, to add back during refinement."""
        return [item.exact() for item in items]

    # --- rewriting -----------------------------------------------------------------------------

    def _visit(self, node: z3.ExprRef, children: list[z3.ExprRef], old: list[z3.ExprRef]) -> z3.ExprRef:
        kind = self._kind(node)
        if kind == z3.Z3_OP_MUL:
            return self._multiply(children)
        if kind in (z3.Z3_OP_IDIV, z3.Z3_OP_MOD):
            n, d = children
            if self._numeral(n) and self._numeral(d) and self._value(d) != 0:
                q, r = _euclid(self._value(n), self._value(d))
                return z3.IntVal(q if kind == z3.Z3_OP_IDIV else r)
            if not self._numeral(d):
                return self._divide(kind, n, d)
        return _rebuild(node, children, old, self.nodes)

    def _fresh(self, what: str) -> z3.ArithRef:
        self._count += 1
        return z3.Int(f"{self.prefix}!{what}{self._count}")

    def _multiply(self, factors: list[z3.ExprRef]) -> z3.ExprRef:
        coefficient = 1
        rest = []
        for f in factors:
            if self._numeral(f):
                coefficient *= self._value(f)
            else:
                rest.append(f)
        if coefficient == 0:
            return z3.IntVal(0)
        if len(rest) <= 1:
            body = rest[0] if rest else z3.IntVal(1)
            return body if coefficient == 1 else coefficient * body
        for i, f in enumerate(rest):
            if self._kind(f) == z3.Z3_OP_ITE and self._distributes(f):
                others = rest[:i] + rest[i + 1 :]
                cond, then, other = self._children(f)
                return terms(f.ctx).ite(
                    cond,
                    self._multiply([z3.IntVal(coefficient), *others, then]),
                    self._multiply([z3.IntVal(coefficient), *others, other]),
                )
        form = self._form(rest[0])
        for f in rest[1:]:
            right = self._form(f)
            expansion = self._times(form, right)
            if _compound(form) or _compound(right):
                self._whole_product(self._build(form, 1), self._build(right, 1), expansion)
            form = expansion
        return self._build(form, coefficient)

    def _distributes(self, ite: z3.ExprRef) -> bool:
        """Push a product into this ``ite``: it has few leaves, or a zero branch (never a divisor)."""
        if self._id(ite) in self._protected:
            return False
        _, then, other = self._children(ite)
        if (self._numeral(then) and self._value(then) == 0) or (self._numeral(other) and self._value(other) == 0):
            return True
        numerals = self._leaves(ite, 64)
        if numerals is not None and all(self._numeral(leaf) for leaf in numerals):
            return True
        return self._leaves(ite, self.leaf_limit) is not None

    def _flat(self, ite: z3.ExprRef) -> bool:
        """An ``ite`` whose few leaves are numerals or short sums of non-``ite`` atoms (``|s|``, ``max(x, 0)``)."""
        key = self._id(ite)
        if key in self._protected:
            return False
        hit = self._flat_memo.get(key)
        if hit is not None:
            return hit[1]
        result = self._flat_leaves(ite)
        self._flat_memo[key] = (ite, result)
        return result

    def _flat_leaves(self, ite: z3.ExprRef) -> bool:
        leaves = self._leaves(ite, self.leaf_limit)
        if leaves is None:
            return False
        for leaf in leaves:
            atoms, _ = self._form(leaf)
            if len(atoms) > 4 or any(self._kind(x) == z3.Z3_OP_ITE for _, x in atoms.values()):
                return False
        return True

    def _leaves(self, e: z3.ExprRef, limit: int = 32) -> list[z3.ExprRef] | None:
        """The leaves of ``e``'s ``ite`` tree (``else`` subtree first), or None past ``limit``."""
        leaves = self._leaf_list(e)
        return None if leaves is None or len(leaves) > limit else leaves

    def _leaf_list(self, e: z3.ExprRef) -> list[z3.ExprRef] | None:
        """All leaves of ``e``'s ``ite`` tree, or None when there are more than :attr:`_leaf_cap`
        (memoized per node: the same ``ite`` is asked about for every product it appears in)."""
        memo = self._leaf_memo
        hit = memo.get(self._id(e))
        if hit is not None:
            return hit[1]
        stack: list[tuple[z3.ExprRef, bool]] = [(e, False)]
        while stack:
            node, done = stack.pop()
            key = self._id(node)
            if key in memo:
                continue
            if self._kind(node) != z3.Z3_OP_ITE:
                memo[key] = (node, [node])
                continue
            _, then, other = self._children(node)
            if not done:
                stack.append((node, True))
                stack.extend((c, False) for c in (then, other) if self._id(c) not in memo)
                continue
            first, second = memo[self._id(other)][1], memo[self._id(then)][1]
            both = (
                None if first is None or second is None or len(first) + len(second) > self._leaf_cap else first + second
            )
            memo[key] = (node, both)
        return memo[self._id(e)][1]

    def _divide(self, kind: int, n: z3.ArithRef, d: z3.ArithRef) -> z3.ArithRef:
        atoms, const = self._form(d)
        if const == 0 and len(atoms) == 1 and next(iter(atoms.values()))[0] == 1:
            d = next(iter(atoms.values()))[1]
        if self._kind(d) == z3.Z3_OP_ITE and any(
            self._numeral(x) and self._value(x) != 0 for x in self._children(d)[1:]
        ):
            # ``safe_divisor``: the numeral branch is a division by a constant
            cond, then, other = self._children(d)
            return z3.If(cond, self._divide(kind, n, then), self._divide(kind, n, other))
        if self._numeral(d):
            return n / d if kind == z3.Z3_OP_IDIV else n % d
        divisor = self._name(d)
        key = (self._id(n), self._id(divisor))
        if key not in self.quotients:
            q = self._fresh("q")
            self._atoms_seen[self._id(q)] = q
            self.quotients[key] = Quotient(q, n, divisor)
            m = self._build(self._times(self._form(q), self._form(divisor)), 1)
            self.facts += [
                z3.Implies(divisor > 0, z3.And(m <= n, n < m + divisor)),
                z3.Implies(divisor < 0, z3.And(m <= n, n < m - divisor)),
            ]
        q = self.quotients[key].var
        if kind == z3.Z3_OP_IDIV:
            return q
        return n - self._build(self._times(self._form(q), self._form(divisor)), 1)

    def _name(self, d: z3.ArithRef) -> z3.ArithRef:
        """A single atom for a divisor (``D == d`` as a fact), so its products share one monomial."""
        atoms, const = self._form(d)
        if const == 0 and len(atoms) == 1 and next(iter(atoms.values()))[0] == 1:
            return next(iter(atoms.values()))[1]
        key = self._id(d)
        if key not in self._names:
            name = self._fresh("d")
            self._atoms_seen[self._id(name)] = name
            self.facts.append(name == d)
            self._names[key] = (d, name)
        return self._names[key][1]

    # --- linear forms and monomials ------------------------------------------------------------

    def _form(self, e: z3.ExprRef) -> LinearForm:
        key = self._id(e)
        if key in self._linear:
            return self._linear[key][1]
        kind = self._kind(e)
        if self._numeral(e):
            form: LinearForm = ({}, self._value(e))
        elif kind == z3.Z3_OP_ADD:
            form = ({}, 0)
            for c in self._children(e):
                form = _add(form, self._form(c), 1)
        elif kind == z3.Z3_OP_SUB:
            cs = self._children(e)
            form = self._form(cs[0])
            for c in cs[1:]:
                form = _add(form, self._form(c), -1)
        elif kind == z3.Z3_OP_UMINUS:
            form = _scale(self._form(self._children(e)[0]), -1)
        elif kind == z3.Z3_OP_MUL and sum(1 for c in self._children(e) if not self._numeral(c)) <= 1:
            coefficient, form = 1, ({}, 1)
            for c in self._children(e):
                if self._numeral(c):
                    coefficient *= self._value(c)
                else:
                    form = self._form(c)
            form = _scale(form, coefficient)
        else:
            self._atoms_seen[key] = e
            form = ({key: (1, e)}, 0)
        self._linear[key] = (e, form)
        return form

    def _times(self, p: LinearForm, q: LinearForm) -> LinearForm:
        (pa, p0), (qa, q0) = p, q
        out: LinearForm = ({}, p0 * q0)
        for _, (c, x) in pa.items():
            for _, (d, y) in qa.items():
                m = self._monomial(x, y)
                out = _add(out, ({self._id(m): (1, m)}, 0), c * d)
        if q0:
            out = _add(out, (pa, 0), q0)
        if p0:
            out = _add(out, (qa, 0), p0)
        return out

    def _monomial(self, a: z3.ArithRef, b: z3.ArithRef) -> z3.ArithRef:
        """``a·b`` for two atoms: pushed into a small ``ite`` factor, else a purified variable."""
        for x, y in ((a, b), (b, a)):
            if self._kind(x) == z3.Z3_OP_ITE and self._flat(x):
                cond, then, other = self._children(x)
                return terms(x.ctx).ite(
                    cond,
                    self._build(self._times(self._form(then), self._form(y)), 1),
                    self._build(self._times(self._form(other), self._form(y)), 1),
                )
        key = tuple(sorted((self._id(a), self._id(b))))
        if key not in self.products:
            m = self._fresh("m")
            self._atoms_seen[self._id(m)] = m
            self._atoms_seen.setdefault(self._id(a), a)
            self._atoms_seen.setdefault(self._id(b), b)
            self._record(key, Product(m, a, b))
            self._add_product_facts(m, a, b)
        return self.products[key].var

    def _aggregate(self, y: z3.ArithRef, lin: LinearForm) -> None:
        """``y·L`` as a purified product, defined by distributivity as ``Σ c·(y·x) + c0·y``."""
        self._whole_product(y, self._build(lin, 1), self._times(self._form(y), lin))

    def _whole_product(self, left: z3.ArithRef, right: z3.ArithRef, expansion: LinearForm) -> None:
        """A product of two linear terms, kept whole (its own sign facts) and equal to its expansion."""
        key = tuple(sorted((self._id(left), self._id(right))))
        if key in self.products:
            return
        p = self._fresh("p")
        self._record(key, Product(p, left, right))
        self.facts.append(p == self._build(expansion, 1))
        self._add_product_facts(p, left, right)

    def _record(self, key: tuple[int, int], product: Product) -> None:
        self.products[key] = product
        left, right = self._id(product.left), self._id(product.right)
        self._by_factor.setdefault(left, []).append((product, product.right))
        if right != left:
            self._by_factor.setdefault(right, []).append((product, product.left))

    def _with_factor(self, key: int) -> list[tuple[Product, z3.ArithRef]]:
        """The products with a factor of id ``key`` so far, each with its other factor."""
        return list(self._by_factor.get(key, ()))

    def _link(self, d: z3.ArithRef, name: z3.ArithRef) -> None:
        """Tie a named divisor ``D == d`` to the products of ``d``'s atoms: ``y·D = Σ c·(y·x)``.

        For every atom ``y`` that multiplies an atom ``x`` of ``d`` somewhere in the query (and
        for the atoms of ``d`` themselves), the monomial ``y·D`` gets its distributive definition;
        ``D·D`` is tied to those. Then a product written over ``d``'s atoms (``T·w``) and one
        written over the name (``q·D`` in a division bracket) meet in the same linear terms.
        """
        lin = self._form(d)
        atoms = lin[0]
        partners: dict[int, z3.ArithRef] = {k: x for k, (_, x) in atoms.items()}
        for a, b in list(self.products):
            for mine, other in ((a, b), (b, a)):
                if mine in atoms and other in self._atoms_seen:
                    partners.setdefault(other, self._atoms_seen[other])
        for y in partners.values():
            self.facts.append(self._monomial(y, name) == self._build(self._times(self._form(y), lin), 1))
        square = self._times(({self._id(name): (1, name)}, 0), lin)
        self.facts.append(self._monomial(name, name) == self._build(square, 1))

    def _split_lemmas(self, group: list[Quotient]) -> None:
        """What a pro-rata split needs: ``Σ⌊n_i/D⌋`` against ``⌊Σn_i/D⌋``, and exact multiples.

        For ``D > 0``: ``Σ q_i ≤ ⌊Σ n_i / D⌋ ≤ Σ q_i + k − 1`` (floor is superadditive, losing
        less than one per term), and for every product ``P = c·D`` already in the query,
        ``Σ n_i ≤ ±P → ⌊Σ n_i / D⌋ ≤ ±c`` and ``Σ n_i ≥ ±P → ⌊Σ n_i / D⌋ ≥ ±c`` (floor is monotone
        and ``⌊c·D / D⌋ = c``). With the links ``T·D = Σ T·w_i`` this proves that shares rounded
        up cover the target (the pro-rata dust is never negative).
        """
        divisor = group[0].divisor
        total = z3.Sum([q.numerator for q in group])
        whole = self._divide(z3.Z3_OP_IDIV, total, divisor)
        parts = z3.Sum([q.var for q in group])
        self.facts.append(z3.Implies(divisor > 0, z3.And(parts <= whole, whole <= parts + len(group) - 1)))
        for product, other in self._with_factor(self._id(divisor)):
            if self._id(other) == self._id(whole):
                continue
            for sign in (1, -1):
                bound, value = sign * product.var, sign * other
                self.facts += [
                    z3.Implies(z3.And(divisor > 0, total <= bound), whole <= value),
                    z3.Implies(z3.And(divisor > 0, total >= bound), whole >= value),
                ]

    def finish(self) -> None:
        """Add the lemmas that relate products sharing a divisor or a quotient (call once, last).

        For quotients ``q_i = n_i div D`` sharing a divisor (a pro-rata split), the sum ``D·Σq_i``
        is added as a product; then, for every two products ``A = a·f`` and ``B = b·f`` with the
        same divisor or quotient factor ``f``, the signs of ``A ± B`` and ``a ± b`` agree when
        ``f > 0`` and are opposite when ``f < 0`` (``A ± B = (a ± b)·f``). For a divisor, ``a``
        and ``b`` are only the numbers its own split reads (:meth:`_own_split`): the divisor's
        links make it a factor of every product of its summands anywhere in the query (Drift at
        N = 4: 115 a divisor, 400,260 pairs, more than the question's 10M units to build, and
        facts that cost z3 more than they gave at N = 2), where its split needs 640.
        """
        for d, name in list(self._names.values()):
            self._link(d, name)
        by_divisor: dict[int, list[Quotient]] = {}
        for quotient in self.quotients.values():
            by_divisor.setdefault(self._id(quotient.divisor), []).append(quotient)
        for group in by_divisor.values():
            if len(group) >= 2:
                self._aggregate(group[0].divisor, self._form(z3.Sum([q.var for q in group])))
        for group in list(by_divisor.values()):
            if len(group) >= 2:
                self._split_lemmas(group)
        factors = {self._id(q.divisor): q.divisor for q in self.quotients.values()}
        factors.update({self._id(q.var): q.var for q in self.quotients.values()})
        own = self._own_split()
        pairs = 0
        for key, f in factors.items():
            effort.check()
            members = [(product.var, other) for product, other in self._with_factor(key)]
            if key in own:
                members = [(big, other) for big, other in members if self._id(other) in own[key]]
            for big, _ in members:
                self.facts += self._held(self._id(big))
            for i, (big_a, a) in enumerate(members):
                for big_b, b in members[i + 1 :]:
                    # quadratic in the products sharing a factor (a pro-rata split over many
                    # accounts): charged as it grows, so a build too large for its effort stops
                    # there instead of filling memory (Drift at N = 4 passed 11 GB uncharged)
                    pairs += 1
                    if pairs % PAIRS_PER_STEP == 0:
                        effort.check()
                    self.facts += shared_factor_facts(f, big_a, a, big_b, b)

    def _own_split(self) -> dict[int, set[int]]:
        """Per divisor, the atoms its own split reads: its quotients (``⌊Σn/D⌋`` too) and the
        factors of its numerators' monomials (the deficit's atoms and the weights ``w_i`` of
        ``T·w_i``). A pair of products ``a·D``, ``b·D`` among these compares two shares, or a
        share with the deficit; a pair outside them compares products the split never reads."""
        by_var = {self._id(p.var): p for p in self.products.values()}
        own: dict[int, set[int]] = {}
        for q in self.quotients.values():
            mine = own.setdefault(self._id(q.divisor), set())
            mine.add(self._id(q.var))
            for key in self._form(q.numerator)[0]:
                p = by_var.get(key)
                if p is None:
                    mine.add(key)
                else:
                    mine.update((self._id(p.left), self._id(p.right)))
        return own

    def _build(self, form: LinearForm, coefficient: int) -> z3.ArithRef:
        """The term ``Σ c·x + c0`` (times ``coefficient``), as ``z3.Sum`` and ``c * x`` build it."""
        atoms, const = form
        if not atoms:
            return z3.IntVal(const * coefficient)
        t = terms(next(iter(atoms.values()))[1].ctx)
        parts = [x if c * coefficient == 1 else t.mul(t.num(c * coefficient), x) for c, x in atoms.values() if c]
        if const:
            parts.append(t.num(const * coefficient))
        if not parts:
            return z3.IntVal(0)
        return parts[0] if len(parts) == 1 else t.add(*parts)


def _add(p: LinearForm, q: LinearForm, factor: int) -> LinearForm:
    atoms = dict(p[0])
    for k, (c, x) in q[0].items():
        total = atoms.get(k, (0, x))[0] + factor * c
        if total:
            atoms[k] = (total, x)
        else:
            atoms.pop(k, None)
    return atoms, p[1] + factor * q[1]


def _scale(p: LinearForm, factor: int) -> LinearForm:
    if factor == 0:
        return {}, 0
    return {k: (c * factor, x) for k, (c, x) in p[0].items()}, p[1] * factor


def _divisor_cores(d: z3.ExprRef) -> list[z3.ExprRef]:
    """The divisor under ``safe_divisor`` (an ``ite`` with a numeral branch) and its summands."""
    if _kind(d) == z3.Z3_OP_ITE:
        cond, then, other = d.children()
        if _is_numeral(other) and other.as_long() != 0:
            return _divisor_cores(then)
        if _is_numeral(then) and then.as_long() != 0:
            return _divisor_cores(other)
    if _kind(d) == z3.Z3_OP_ADD:
        parts = _summands(d)
        if len(parts) == 1:
            return _divisor_cores(parts[0])
        return [d, *parts]
    return [d]


def _summands(e: z3.ExprRef) -> list[z3.ExprRef]:
    """The non-numeral terms of a (nested) sum."""
    if _kind(e) == z3.Z3_OP_ADD:
        return [t for c in e.children() for t in _summands(c)]
    return [] if _is_numeral(e) else [e]


def _euclid(n: int, d: int) -> tuple[int, int]:
    """z3's integer division and remainder: ``n = q·d + r`` with ``0 ≤ r < |d|``."""
    r = n % abs(d)
    return (n - r) // d, r


def _compound(form: LinearForm) -> bool:
    """Not a single atom with coefficient ±1: a sum, a scaled atom, or an atom plus a constant."""
    atoms, const = form
    return const != 0 or len(atoms) != 1 or abs(next(iter(atoms.values()))[0]) != 1


__all__ = ["Linearizer", "Product", "Quotient"]
