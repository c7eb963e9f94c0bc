"""HW10 grader: question specs, answer keys, the course's scoring rule, readers and writers.

Importing this package never imports torch; model code lives in :mod:`checks`.
"""
__version__ = "0.1.0"
