"""``python -m checks.bench STAGE [--device D]``: one ``hw10 bench`` stage in this process
(see :mod:`checks.bench.stages`)."""
import sys

from checks.bench.stages import main

sys.exit(main())
