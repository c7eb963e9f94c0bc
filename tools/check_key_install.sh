#!/usr/bin/env bash
# The TA guide's "Computing the key" (docs/ta-guide.md), checked from scratch on this machine (CPU): a new venv with torch already in it (as on a
# GPU machine or Colab), the ONE install command `pip install ".[key]"`, then `hw10 doctor` and `hw10 key` on the
# fixtures with the Hub unreachable (HF_ENDPOINT on a closed port) and an empty hw10 cache, so the speaker
# encoder's weights come from PyPI's Resemblyzer wheel (checked by SHA-256). Minutes and network (the package
# registry): not part of the test suite. Usage: bash tools/check_key_install.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-$(mktemp -d)}"
if [ -e "$work" ] && [ -n "$(ls -A "$work")" ]; then
  echo "error: $work is not empty; give a new or empty folder (this script never deletes what it did not write)" >&2
  exit 2
fi
mkdir -p "$work"
src="$work/src" venv="$work/venv"
mkdir -p "$src"
git ls-files -co --exclude-standard | tar -cf - -T - | tar -xf - -C "$src"   # the working tree as a clean copy
python3 -m venv "$venv"
"$venv/bin/pip" install -q torch==2.13.0                                     # "torch with CUDA already installed"
time "$venv/bin/pip" install -q "$src[key]"                                  # THE install command
"$venv/bin/python" -c "import whisper, webrtcvad, librosa; print('openai-whisper, webrtcvad, librosa import')"
if "$venv/bin/python" -c "import resemblyzer" 2>/dev/null; then echo "resemblyzer got installed: not expected" >&2; exit 1; fi
export HW10_CACHE="$work/cache" HF_ENDPOINT="http://127.0.0.1:9"
mimi="$(.venv/bin/python -c 'import sys; sys.path.insert(0, "fixtures"); import make_csm_fixture as m; print(m.ensure_tiny_csm().mimi)')"
"$venv/bin/hw10" doctor --questions 1-4,10 --assets fixtures/assets --mimi "$mimi" --asr faster-whisper:tiny.en-bundled --device cpu
"$venv/bin/hw10" key --questions 1-4,10 --assets fixtures/assets --mimi "$mimi" --asr faster-whisper:tiny.en-bundled \
  --device cpu --out "$work/key.yaml" --no-cache
test -f "$HW10_CACHE/resemblyzer-0.1.4/pretrained.pt"
echo "ok: one install command, doctor and key ran offline from the Hub; speaker weights fetched into $HW10_CACHE"
