"""What ``hw10 bench --stages key_real`` measured, kept for ``hw10 doctor``'s estimate of a key run.

A record, not a decision: the doctor adds up the questions a run selects and says where the figure comes from.
Re-measure with each record's command and replace it. The CPU records are upper bounds (random weights generate
to full length); the GPU record is a floor (measured before the stage ran q06 at its real size and gave CSM's codec
the standalone Mimi's weights: see its docstring).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class KeyBudget:
    """One measured whole-key run with real-size models (random weights: generation to full length)."""

    when: str
    command: str
    machine: str
    device: str
    asr: str
    """The ASR the run used (``--asr``), with its compute type."""
    load_s: float
    """Loading Mimi, the ASR, the speaker encoder and CSM."""
    question_s: dict[str, float] = field(default_factory=dict)
    """Seconds per question (q06 scaled to q06.yaml's per_class)."""
    peak_gb: float = 0.0
    """Peak resident memory of the whole run."""

    def seconds(self, questions: list[str]) -> float:
        """The loads plus the selected questions' seconds."""
        return self.load_s + sum(self.question_s.get(q, 0.0) for q in questions)


CPU_2_CORES: KeyBudget | None = KeyBudget(
    when="2026-12-04", command="hw10 bench --stages key_real (code at 6752cc0)",
    machine="a 2-core CPU (24 GB, no GPU)", device="cpu", asr="openai-whisper:turbo, float32",
    load_s=43.8,  # Mimi 3.0 s, ASR 5.6 s, speaker 0.0 s, CSM 35.2 s (its codec given the Mimi's weights)
    question_s={"q01": 0.3, "q02": 0.3, "q03": 0.6, "q04": 0.2,
                "q05": 0.0,  # pending on the fixture codec; on the real one a codebook lookup
                "q06": 56.0,  # q06.yaml's per_class 40: 200 clips of 4 s (checks/bench/emovdb_standin.py)
                "q07": 69.8, "q08": 13.9, "q09": 409.6, "q10": 211.2, "q11": 236.5, "q12": 138.6},
    peak_gb=11.2)
"""This project's 2-core CPU machine, every measurement run in full (each row said so): 19.7 min, 11.2 GB peak.
The 2026-12-02 run before it (q06 on 30 clips, CSM's codec untrained): 27.8 min, 11.1 GB, with q09 534 s, q11
382 s, q12 337 s; the machine runs in phases, so a third either way between two days is its own doing as much as the
code's."""

CPU_2_CORES_FASTER_WHISPER: KeyBudget | None = KeyBudget(
    when="2026-12-04", command="hw10 bench --stages key_real_fw (code at 6752cc0)",
    machine="a 2-core CPU (24 GB, no GPU)", device="cpu", asr="faster-whisper:turbo, int8",
    load_s=29.3,  # Mimi 0.6 s, ASR 1.3 s, speaker 0.0 s, CSM 27.3 s (its codec given the Mimi's weights)
    question_s={"q01": 0.4, "q02": 0.7, "q03": 0.7, "q04": 0.2, "q05": 0.0,
                "q06": 66.9,  # q06.yaml's per_class 40: 200 clips of 4 s (checks/bench/emovdb_standin.py)
                "q07": 16.0, "q08": 16.6, "q09": 175.1, "q10": 78.4, "q11": 215.9, "q12": 72.2},
    peak_gb=9.3)
"""The same machine with ``--asr faster-whisper:turbo`` (int8 on a CPU, 2 windows a batch), every measurement run in
full (each row said so): 11.2 min, 9.3 GB peak, right after the openai-whisper run above. The 2026-12-02 run (q06 on
30 clips, CSM's codec untrained): 16.7 min, 9.3 GB."""


GPU_H200: KeyBudget | None = KeyBudget(
    when="2026-12-04", command="python -m checks.bench key_real --device cuda (code at 22d74c6)",
    machine="one NVIDIA H200 (139 GiB), 16 CPU cores, 128 GiB", device="cuda",
    asr="openai-whisper with turbo's dimensions (random weights), float32",
    load_s=37.6,  # Mimi 7.7 s, the ASR 6.8 s, CSM 23.1 s
    question_s={"q01": 0.1, "q02": 0.1, "q03": 0.2, "q04": 0.1, "q05": 0.1,  # together ≈ 0.6 s: the 128 s total
                # less the loads and the questions timed one by one (those five were not timed singly)
                "q06": 15.5,  # the fixture's 30 clips, not scaled: a floor (the real run takes 200)
                "q07": 6.6, "q08": 10.5, "q09": 11.1, "q10": 6.8, "q11": 33.7, "q12": 5.6},
    peak_gb=7.7)
"""The one GPU run (an H200 lent for a session): 128 s for all twelve questions including the loads, 7.7 GB peak host
memory, every measurement in full fp32 precision (TF32 off; the structural questions' lookup error 0). A floor, not an
upper bound like the CPU records, for two reasons found afterwards (2026-12-04, on the CPU; no GPU since): q06 ran on
the fixture's 30 EmoV-DB clips and its figure was not scaled to the real 200 (the CPU records scaled it linearly,
which overstates: at the real size the stage now measures 56 s on the 2-core CPU against 35 s for 30 clips, not
236 s), and the bench's CSM had a random init's codec, whose all-zero codebooks encode every prompt clip to code 0
(CSM's end code) and decode every reply to the same sound whatever its codes, so q11/q12 were not the real run's work.
Not the reason first given for it: no check stops at its gate (each measures in full, the gate only decides afterwards)
and a random Whisper decodes to its token cap on silence too. ``hw10 bench --stages key_real --device cuda`` now does
the real run's work and says so per question (:mod:`checks.bench.full_run`): re-measure with it. In the same session:
q01–q04 alone 16.7 s wall (B C B B); q11's five replies × 25 frames one at a time 25.96 s, in one batch 5.94 s
(4.4×)."""


def gpu_record() -> KeyBudget | None:
    """The GPU record (:data:`GPU_H200`), a floor for a run on a CUDA device."""
    return GPU_H200


def cpu_record(asr: str) -> KeyBudget | None:
    """The CPU record for a run whose ``--asr`` is ``asr``: the faster-whisper one for a ``faster-whisper:…`` ASR
    (measured with turbo in int8; a smaller model takes less), else the openai-whisper one."""
    if asr.split(":", 1)[0] == "faster-whisper" and CPU_2_CORES_FASTER_WHISPER is not None:
        return CPU_2_CORES_FASTER_WHISPER
    return CPU_2_CORES
