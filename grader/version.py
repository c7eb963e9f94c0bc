"""The package version: one module that imports nothing, so that every layer may read it."""
__version__ = "0.1.0"
