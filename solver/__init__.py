"""solvent.solver"""
