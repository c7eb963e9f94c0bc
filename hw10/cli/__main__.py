"""``python -m hw10.cli …`` is ``hw10 …``."""
from hw10.cli import run

run()
