"""``python -m grader.cli …`` is ``hw10 …``."""
from grader.cli import run

run()
