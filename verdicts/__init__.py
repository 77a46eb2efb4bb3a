"""What a check found: verdicts on claims, between the prover (``solvent.solver``) and the renderers.

The floors read ``rules < properties < solver < verdicts < reports < cli``, each importing only
downward:

- :mod:`~solvent.verdicts.check`: the one judgement every front end calls (``solvent check``,
  ``solvent diff``, ``pytest --solvent``, the gallery, the Python API): scenarios, search, z3
  within its effort budget, thresholds, and every story judged against every claim.
- :mod:`~solvent.verdicts.proofs`: the z3 questions ``check`` asks within its budget.
- :mod:`~solvent.verdicts.findings`: the finding model: violations grouped by story and failing
  step, each group listing every claim it breaks.
- :mod:`~solvent.verdicts.diff`: the policy diff model (verdicts that changed, fields, threshold
  and proof rows, whether the new version is worse).
- :mod:`~solvent.verdicts.locate`: where in a policy file a rule or an accepted trade-off sits.
- :mod:`~solvent.verdicts.tradeoffs`: which protections each preset gives up under a one-tick
  gap, read off the same judgement.
"""
