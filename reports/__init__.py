"""solvent.reports"""
