"""solvent.properties"""
