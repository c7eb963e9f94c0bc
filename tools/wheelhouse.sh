#!/usr/bin/env bash
# Collect every wheel `pip install ".[key]"` needs, for a GPU machine that has no internet, as a folder to carry over:
#
#   bash tools/wheelhouse.sh 3.12 [DIR]        # here, with internet: DIR defaults to wheelhouse-py3.12
#   # on the GPU machine (torch, the CUDA build, already installed, as on Colab), the two lines it prints:
#   pip install --no-index --find-links DIR "DIR/hw10-0.1.0-py3-none-any.whl[models]" tiktoken more-itertools
#   pip install --no-index --find-links DIR --no-deps openai-whisper resemblyzer
#
# Built with that very Python (python3.12 on PATH here, or PYTHON=/path/to/python3.12): binary wheels come from PyPI, and packages PyPI has
# only as source (pesq for Python 3.12; its build needs pytest-runner) are built into wheels, so nothing is compiled
# or fetched on the GPU machine. torch and triton are left out (the machine's own CUDA build); openai-whisper is
# collected without its torch requirement, its other requirements by name; Resemblyzer 0.1.4's wheel for its
# pretrained.pt, the speaker encoder's weights (installed without its requirements: checks/models/ge2e.py only reads
# the file, and the download it falls back to is what a machine without internet cannot do). Linux x86_64 only, as the wheels built here
# are for this platform.
set -euo pipefail
PYVER=${1:-}
if ! [[ "$PYVER" =~ ^3\.[0-9]+$ ]]; then
  echo "usage: bash tools/wheelhouse.sh PYVER [DIR]   (PYVER: the GPU machine's Python, e.g. 3.12)" >&2
  exit 2
fi
cd "$(dirname "$0")/.."
OUT=$(realpath -m "${2:-wheelhouse-py$PYVER}")
PY=${PYTHON:-python$PYVER}  # PYTHON=/path/to/python3.12 when it is not on PATH as python3.12
if ! [ "$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$PYVER" ]; then
  echo "error: no Python $PYVER at '$PY': the wheels must be built with the GPU machine's Python version (set" \
       "PYTHON=/path/to/python$PYVER)" >&2
  exit 2
fi
if [ -e "$OUT" ] && [ -n "$(ls -A "$OUT")" ]; then
  echo "error: $OUT is not empty: give a new folder" >&2
  exit 2
fi
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$PY" -m venv "$WORK/venv"
PIP=("$WORK/venv/bin/python" -m pip -q --disable-pip-version-check)
"${PIP[@]}" install -U pip wheel setuptools
# hw10 itself and the models extra (no torch among them), every one a wheel (sources built here)
"${PIP[@]}" wheel -w "$OUT" ".[models]"
# the key extra's openai-whisper, without torch/triton; its other requirements by name
"${PIP[@]}" wheel -w "$OUT" --no-deps "openai-whisper>=20240930"
"${PIP[@]}" wheel -w "$OUT" tiktoken more-itertools
# the speaker encoder's weights (q10, q11): Resemblyzer's wheel holds them; its own requirements are not needed
"${PIP[@]}" download -d "$OUT" --no-deps "resemblyzer==0.1.4"
# the check: everything but torch installs from the folder alone (no index), in a new environment of that Python
"$PY" -m venv "$WORK/check"
"$WORK/check/bin/python" -m pip -q --disable-pip-version-check install --no-index --find-links "$OUT" \
  "$(ls "$OUT"/hw10-*.whl)[models]" tiktoken more-itertools
"$WORK/check/bin/python" -m pip -q --disable-pip-version-check install --no-index --find-links "$OUT" --no-deps \
  openai-whisper resemblyzer
"$WORK/check/bin/hw10" questions > /dev/null
(cd "$WORK" && HW10_CACHE="$WORK/no-cache" "$WORK/check/bin/python" -c "from checks.models.ge2e import locate_weights
path, where = locate_weights()
assert path is not None, where" ) || { echo "error: the speaker encoder's weights are not found offline" >&2; exit 1; }
HW10=$(basename "$(ls "$OUT"/hw10-*.whl)")
echo "wrote $(ls "$OUT" | wc -l) wheels ($(du -sh "$OUT" | cut -f1)) to $OUT; checked: they install with no index"
echo "on the GPU machine (torch already there), from the folder's parent:"
echo "  pip install --no-index --find-links $(basename "$OUT") \"$(basename "$OUT")/$HW10[models]\" tiktoken more-itertools"
echo "  pip install --no-index --find-links $(basename "$OUT") --no-deps openai-whisper resemblyzer"
