"""What ``hw10 bench --stages key_real`` measured, kept for ``hw10 doctor``'s estimate of a key run.

A record, not a decision: the doctor adds up the questions a run selects and says where the figure comes from.
Re-measure with the command below and replace the record (a GPU figure belongs beside it once a GPU is lent).
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
    when="2026-12-01", command="hw10 bench --stages key_real", machine="a 2-core CPU (24 GB, no GPU)", device="cpu",
    asr="openai-whisper:turbo, float32",
    load_s=72.8,  # Mimi 20.8 s, ASR 7.9 s, speaker 3.4 s, CSM 40.6 s
    question_s={"q01": 0.6, "q02": 0.5, "q03": 0.9, "q04": 0.2,
                "q05": 0.0,  # pending on the fixture codec; on the real one a codebook lookup
                "q06": 169.0,  # 25.4 s for the fixture's 30 clips, scaled to q06.yaml's per_class 40 (200 clips)
                "q07": 110.4, "q08": 15.0, "q09": 674.4, "q10": 375.5, "q11": 482.0, "q12": 309.2},
    peak_gb=12.0)
"""This project's 2-core CPU machine: 34.7 min measured (37 min with q06 at its real size), 12.0 GB peak; the ASR
decoded 16 windows a batch then (a CPU now decodes 2 at a time: one at a time was 12 % faster with openai-whisper)."""

CPU_2_CORES_FASTER_WHISPER: KeyBudget | None = KeyBudget(
    when="2026-12-01", command="hw10 bench --stages key_real_fw", machine="a 2-core CPU (24 GB, no GPU)", device="cpu",
    asr="faster-whisper:turbo, int8",
    load_s=29.9,  # Mimi 0.8 s, ASR 2.0 s, speaker 0.1 s, CSM 27.1 s (files in the page cache)
    question_s={"q01": 0.8, "q02": 1.5, "q03": 1.1, "q04": 0.3, "q05": 0.0,
                "q06": 165.5,  # 24.8 s for the fixture's 30 clips, scaled to per_class 40
                "q07": 28.5, "q08": 18.0, "q09": 283.0, "q10": 126.7, "q11": 594.9, "q12": 125.9},
    peak_gb=9.2)
"""The same machine with ``--asr faster-whisper:turbo`` (int8 on a CPU, 2 windows a batch): 20.6 min measured (23 min
with q06 at its real size), 9.2 GB peak. An earlier run with batches of 16 windows: 20.9 min, 12.3 GB (q09)."""


def cpu_record(asr: str) -> KeyBudget | None:
    """The CPU record for a run whose ``--asr`` is ``asr``: the faster-whisper one for a ``faster-whisper:…`` ASR
    (measured with turbo in int8; a smaller model takes less), else the openai-whisper one."""
    if asr.split(":", 1)[0] == "faster-whisper" and CPU_2_CORES_FASTER_WHISPER is not None:
        return CPU_2_CORES_FASTER_WHISPER
    return CPU_2_CORES
