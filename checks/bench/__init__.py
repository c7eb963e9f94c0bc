"""``hw10 bench``'s model stages: naive (one item at a time, as a Colab would) against ours, side by side.

:mod:`checks.bench.stage` (the row, the timer), :mod:`checks.bench.models` (Mimi, CSM), :mod:`checks.bench.q06`,
:mod:`checks.bench.layers` (q09/q10), :mod:`checks.bench.key` (a whole key run on the fixtures),
:mod:`checks.bench.key_real` (the whole key with real-size models; its record, :mod:`checks.bench.measured`, is what
``hw10 doctor`` estimates from) and :mod:`checks.bench.stages` (all of them by name; ``python -m checks.bench``).
"""
