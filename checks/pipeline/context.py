"""What a check gets to work with: the assets folder, lazily loaded models, an artifacts folder, a seed."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from checks.assets import require_asset
from checks.models.hub import ModelUnavailable


class LazyModel:
    """Loads a model on first use and keeps it (or the error, so a failed load is not retried per question)."""

    def __init__(self, name: str, load: Callable[[], Any]):
        self.name = name
        self._load = load
        self._value: Any = None
        self._error: Exception | None = None
        self._done = False

    @classmethod
    def ready(cls, name: str, value: Any) -> "LazyModel":
        m = cls(name, lambda: value)
        m.get()
        return m

    def get(self) -> Any:
        if not self._done:
            self._done = True
            try:
                self._value = self._load()
            except Exception as exc:
                self._error = exc
        if self._error is not None:
            raise self._error
        return self._value

    @property
    def loaded(self) -> bool:
        return self._done and self._error is None

    @property
    def error(self) -> Exception | None:
        """The load error, once a load was tried and failed."""
        return self._error


@dataclass
class CheckContext:
    """Inputs shared by every check of one ``hw10 key`` run."""

    assets: Path | None = None
    """The TA's assets folder (the Colab's files); ``None`` when not given."""
    models: dict[str, LazyModel] = field(default_factory=dict)
    """Model providers by the names the specs use in ``check.models`` (``mimi``, …)."""
    evidence_dir: Path | None = None
    """Where artifacts go (``<evidence_dir>/<qid>/``); ``None``: write no artifacts."""
    seed: int = 0
    """Seed for generated signals and anything random in a check."""
    emovdb: Path | None = None
    """EmoV-DB folder for q06 (``--emovdb``); ``None``: ``<assets>/emovdb``."""
    emovdb_per_class: int | None = None
    """Clips per emotion for q06 (``--per-class``); ``None``: ``thresholds.per_class`` of questions/q06.yaml."""
    repeats: int | None = None
    """``--seeds N``: how many seeds every stochastic step runs with (q06's UMAP fits, q11's CSM samples);
    ``None``: the counts in the question specs."""
    shared: dict[tuple, Any] = field(default_factory=dict)
    """What two checks of this run would otherwise compute twice, by a key naming what it is and every setting it
    depends on (q11's CSM samples, which q12 decodes again: :func:`checks.questions.conversation.samples`)."""

    def model(self, name: str) -> Any:
        provider = self.models.get(name)
        if provider is None:
            raise ModelUnavailable(f"no provider for the {name!r} model in this version of hw10")
        return provider.get()

    def mimi(self):
        """The loaded :class:`checks.models.mimi.MimiCodec`."""
        return self.model("mimi")

    def asset(self, name: str) -> Path:
        return require_asset(self.assets, name)

    def artifact_dir(self, qid: str) -> Path | None:
        if self.evidence_dir is None:
            return None
        d = self.evidence_dir / qid
        d.mkdir(parents=True, exist_ok=True)
        return d

    def clear_artifacts(self, qid: str) -> None:
        """Empty ``evidence_dir/qid`` before the question is computed or restored, so that plots and audio of an
        earlier run never sit next to (and get reported or cached with) this run's."""
        import shutil

        if self.evidence_dir is not None and (self.evidence_dir / qid).is_dir():
            shutil.rmtree(self.evidence_dir / qid)
