"""``hw10 bench``: measure speed and memory, naive against ours, side by side (a table; never a test)."""
from __future__ import annotations

import sys

from checks.pipeline.options import positive_int
from grader.bench import STAGES, bench_grade, bench_model_stage, format_table, unknown_stages
from grader.errors import InputError
from hw10.cli.common import EXIT_OK


def register(subparsers) -> None:
    """Add ``hw10 bench``."""
    b = subparsers.add_parser("bench", help="measure speed and memory (prints a table; never a test)")
    b.add_argument("--stages", default="grade,mimi", type=lambda s: [x.strip() for x in s.split(",") if x.strip()],
                   help="comma-separated stages: grade, mimi, q06_encode, umap, pesq, q09, q10, csm, q11, key, "
                        "key_real, key_real_fw (default: grade,mimi; key = a whole key run on the fixtures, cold cache "
                        "against warm; key_real = the whole key with real-size models doing the real run's work, "
                        "minutes and memory per question and whether it ran in full; key_real_fw = the same with "
                        "--asr faster-whisper:turbo); exit 1 when a stage fails")
    b.add_argument("--device", default="cpu", help="device for the model stages: cpu or cuda (default cpu)")
    b.add_argument("--students", type=positive_int, default=10_000,
                   help="class size for the grade stage (default 10000)")
    b.set_defaults(main=main)


def main(*, stages: list[str], device: str = "cpu", students: int = 10_000) -> int:
    """Run the ``stages`` (each in a child process) and print the table; 1 when a stage failed.

    Args:
        stages: stage names (:data:`grader.bench.STAGES`).
        device: ``cpu`` or ``cuda`` for the model stages.
        students: class size of the ``grade`` stage.
    """
    unknown = unknown_stages(stages)
    if unknown:
        raise InputError(f"--stages: no stage {', '.join(map(repr, unknown))}; choose from {', '.join(STAGES)}")
    rows, failed = [], []
    for stage in stages:
        print(f"bench: {stage} …", file=sys.stderr, flush=True)
        if stage == "grade":
            rows.extend(bench_grade(students))
        else:
            try:
                rows.extend(bench_model_stage(stage, device))
            except RuntimeError as exc:
                failed.append(stage)
                print(f"bench: {stage} failed: {exc}", file=sys.stderr)
    print(format_table(rows))
    if failed:
        print(f"bench: {len(failed)} stage(s) failed: {', '.join(failed)} (see above)", file=sys.stderr)
        return 1
    return EXIT_OK
