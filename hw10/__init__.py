"""hw10's top layer: the command line (:mod:`hw10.cli`, ``hw10 …``), the grading run that writes the class's files
and pages (:mod:`hw10.grade`) and the notebook API (:func:`selfcheck`, :mod:`hw10.notebook`). It is the only layer
that imports both the model checks (:mod:`checks`) and the pages (:mod:`reports`) on top of the core
(:mod:`grader`).

In a notebook::

    from hw10 import selfcheck
    selfcheck({"q01": "B", "q06": ["A", "B"]}, key="key.yaml")
"""
from grader.version import __version__

__all__ = ["__version__", "selfcheck"]


def selfcheck(*args, **kwargs):
    """Score your answers like the TA will (see :mod:`hw10.notebook`); renders as HTML in notebooks."""
    # deferred: `import hw10` stays cheap; the scoring stack loads on the first call
    from hw10.notebook import selfcheck as _selfcheck

    return _selfcheck(*args, **kwargs)
