"""Fixtures shared by the solver tests."""

import pytest

from solvent.solver import pro_rata_lemma


@pytest.fixture
def fresh_split_lemmas():
    """Each test asks the split lemmas themselves: a mutated ``charge`` or ``charge_k_up`` must not
    meet a verdict cached by an earlier test (``pro_rata_lemma._verdict``)."""
    pro_rata_lemma._verdict.cache_clear()
    yield
    pro_rata_lemma._verdict.cache_clear()
