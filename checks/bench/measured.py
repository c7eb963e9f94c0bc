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
    when="2026-12-02", command="hw10 bench --stages key_real", machine="a 2-core CPU (24 GB, no GPU)", device="cpu",
    asr="openai-whisper:turbo, float32",
    load_s=37.6,  # Mimi 3.3 s, ASR 5.5 s, speaker 0.0 s, CSM 28.7 s (files in the page cache)
    question_s={"q01": 1.2, "q02": 1.2, "q03": 2.2, "q04": 0.5,
                "q05": 0.0,  # pending on the fixture codec; on the real one a codebook lookup
                "q06": 236.0,  # 35.4 s for the fixture's 30 clips, scaled to q06.yaml's per_class 40 (200 clips)
                "q07": 91.5, "q08": 14.2, "q09": 533.6, "q10": 232.9, "q11": 381.6, "q12": 336.9},
    peak_gb=11.1)
"""This project's 2-core CPU machine: 27.8 min measured (31.2 min with q06 at its real size), 11.1 GB peak, with
CSM's CPU path of 2026-12-02 (oneDNN linear layers, the prompt run once per batch). The 2026-12-01 run before it:
34.7 min, 12.0 GB (q11 482 s; the ASR then decoded 16 windows a batch)."""

CPU_2_CORES_FASTER_WHISPER: KeyBudget | None = KeyBudget(
    when="2026-12-02", command="hw10 bench --stages key_real_fw", machine="a 2-core CPU (24 GB, no GPU)", device="cpu",
    asr="faster-whisper:turbo, int8",
    load_s=35.4,  # Mimi 4.6 s, ASR 1.3 s, speaker 0.1 s, CSM 29.5 s
    question_s={"q01": 1.0, "q02": 1.1, "q03": 0.9, "q04": 0.2, "q05": 0.5,
                "q06": 229.0,  # 34.4 s for the fixture's 30 clips, scaled to q06.yaml's per_class 40 (200 clips)
                "q07": 30.2, "q08": 17.4, "q09": 280.0, "q10": 129.3, "q11": 351.8, "q12": 117.3},
    peak_gb=9.3)
"""The same machine with ``--asr faster-whisper:turbo`` (int8 on a CPU, 2 windows a batch) and CSM's CPU path of
2026-12-02 (oneDNN linear layers, the prompt run once per batch): 16.7 min measured (19.9 min with q06 at its real
size), 9.3 GB peak. Before that CSM path: 20.6 min (q11 595 s), 9.2 GB."""


def cpu_record(asr: str) -> KeyBudget | None:
    """The CPU record for a run whose ``--asr`` is ``asr``: the faster-whisper one for a ``faster-whisper:…`` ASR
    (measured with turbo in int8; a smaller model takes less), else the openai-whisper one."""
    if asr.split(":", 1)[0] == "faster-whisper" and CPU_2_CORES_FASTER_WHISPER is not None:
        return CPU_2_CORES_FASTER_WHISPER
    return CPU_2_CORES
