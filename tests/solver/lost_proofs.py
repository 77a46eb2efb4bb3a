"""Why a deep test is expected to fail: proofs a correct fix made cost more than their test's budget
(each a strict xfail, so the proof coming back within the budget is noticed)."""

#: why two all-N proofs of the payer's contract are expected to fail (session 27): in test_direct_first.py
#: and test_isolated_scope_proofs.py
A140 = (
    "found by session 27's whole deep run: since a140d5a (session 21) each turn's system accounts are "
    "truly fresh, and the payer's contract costs 2.9 times its units (8,314,764 against 2,873,739): "
    "proved for every N at 20M, only at the question's N within this budget; a correct fix, the old all-N"
    " verdict rested on a narrower contract than stated "
    "(docs/solver-notes.md#the-deep-suite-run-whole-session-27). Strict: a cheaper contract makes this pass."
)
