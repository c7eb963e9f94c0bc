"""``python -m grader.cli …`` is ``hw10 …``."""
import sys

from grader.cli import main

sys.exit(main())
