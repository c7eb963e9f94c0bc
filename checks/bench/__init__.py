"""``hw10 bench``'s model stages: naive (one item at a time, as a Colab would) against ours, side by side.

:mod:`checks.bench.stage` (the row, the timer), :mod:`checks.bench.models` (Mimi, CSM), :mod:`checks.bench.q06`,
:mod:`checks.bench.layers` (q09/q10), :mod:`checks.bench.key` (a whole key run) and :mod:`checks.bench.stages`
(all of them by name; ``python -m checks.bench``).
"""
