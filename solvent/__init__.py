"""Solvent: check a perpetual-futures exchange's risk policy for failure modes."""

__version__ = "0.1.0"
