"""hw10's torch-free core: question specs, answer keys and their records, the course's scoring rule, the score
sheet and item analysis, readers and writers, the output folder, a TA's review and the key check.

It imports nothing of :mod:`checks` (the model checks), :mod:`reports` (the pages) or :mod:`hw10` (the command
line and the notebook API); those build on it (``tests/test_architecture.py`` keeps it so). Importing it never
imports torch.
"""
from grader.version import __version__

__all__ = ["__version__"]
