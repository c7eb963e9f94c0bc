#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh Debian machine of this kind, then run it.
# Used by README command 2 and by .ci/run. Idempotent: re-running reuses .venv.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v espeak-ng >/dev/null || need_apt+=(espeak-ng)
command -v sox >/dev/null || need_apt+=(sox)
command -v chromium >/dev/null || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "note: missing ${need_apt[*]} (install with apt-get); tests that need them will say so" >&2
  fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
PIP=(.venv/bin/pip install -q --disable-pip-version-check)
# torch first, pinned to the local CPU wheel: a bare requirement would pull a multi-GB CUDA build.
.venv/bin/python -c "import torch" 2>/dev/null || "${PIP[@]}" torch==2.13.0
"${PIP[@]}" -e '.[models,test]'
# Resemblyzer itself, for its weights (offline) and to compare checks/models/ge2e.py with: without deps, as its
# declared webrtcvad does not build/import with current setuptools (the models extra has webrtcvad-wheels).
.venv/bin/python -c "import resemblyzer" 2>/dev/null || "${PIP[@]}" --no-deps resemblyzer==0.1.4
# openai-whisper (the homework's ASR) for its backend tests: --no-deps, or pip pulls triton; weights never download in tests.
.venv/bin/python -c "import whisper" 2>/dev/null || { "${PIP[@]}" tiktoken more-itertools && "${PIP[@]}" --no-deps openai-whisper==20250625; }

set +e
# both cores, one test module per worker (module fixtures stay shared), handed out in collection order (tests/conftest.py
# puts the longest module first); HW10_TEST_WORKERS=0 runs in one process. With workers, one thread each for torch,
# MKL, CTranslate2 and numba: two workers with two threads each on two cores spin-wait for each other and ran the
# model tests ~2× slower than alone.
workers="${HW10_TEST_WORKERS:-2}"
if [ "$workers" -ge 2 ]; then
  export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}" NUMBA_NUM_THREADS="${NUMBA_NUM_THREADS:-1}"
fi
.venv/bin/python -m pytest -n "$workers" --dist loadfile --no-loadscope-reorder "$@"
rc=$?
set -e
if [ $rc -eq 5 ]; then
  echo "pytest collected no tests: failing" >&2
  exit 1
fi
exit $rc
