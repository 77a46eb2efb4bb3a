"""The policy TOML's JSON Schema as shipped: ``solvent.rules.schema.policy_schema`` with the claim
ids a policy's ``accepts`` may name (known here, a floor above the rules), as deterministic text.

``schemas/policy.schema.json`` in the repository is :func:`schema_text`, written by
``solvent schema --output schemas/policy.schema.json``; a test regenerates it and compares.
"""

from __future__ import annotations

import json

from solvent.properties import catalog, relational
from solvent.rules.schema import policy_schema


def schema_text() -> str:
    """The schema as JSON text: two-space indent, keys in the classes' order, a final newline. The
    ``accepts`` ids offered are Solvent's own (a user's registered invariant is still allowed)."""
    builtin = [i for i in catalog.ids() if catalog.CATALOG.builtin(i)]
    ids = (*builtin, *(i for i in relational.ids() if relational.RELATIONAL.builtin(i)))
    return json.dumps(policy_schema(accepts=ids), indent=2, ensure_ascii=False) + "\n"


__all__ = ["schema_text"]
