#!/usr/bin/env bash
# For hw10's developers, when a session is lent the project's GPU machine (an H200 with its own CUDA image, Python 3.12,
# no internet; ../.library/device/): the wheels that image lacks for `python -m checks.bench key_real --device cuda`,
# in .device-wheels/ (ignored by git; the device tool carries it), and the one command to run there.
#
#   PYTHON=/path/to/python3.12 bash tools/device_kit.sh      # here, with the package index (about a minute)
#   device run: carry [".device-wheels"], command "bash tools/device_kit.sh --run", timeout_s 540
#
# --run (on the device machine): installs the carried wheels without their requirements (the image has the rest) and
# runs the bench's key_real stage on cuda, every measurement in full (checks/bench/full_run.py); its rows (JSON
# lines) and its log come back in $OUT. Measured on the 2-core CPU: 11–20 min; the H200's first run: about 2 min.
#
# Built from tools/wheelhouse.sh's folder for 3.12: only the distributions in NEEDED (the key run's ASR is the
# default openai-whisper; faster-whisper is left behind with its 80 MB), each checked to require nothing that is
# neither in NEEDED nor in the image's list (IMAGE, as ../.library/device/KINDS.md read it on 2026-11-17); Resemblyzer
# is carried for its weights (pretrained.pt, which checks/models/ge2e.py reads) and installed without its own.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--run" ]; then
  : "${OUT:?--run is for the device machine, where \$OUT is set}"
  python3 -m pip install -q --disable-pip-version-check --no-index --no-deps .device-wheels/*.whl 2>&1 \
    | tee "$OUT/install.log"
  export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/gpu.csv" 2>&1 || true
  python3 -m checks.bench key_real --device cuda > "$OUT/key_real.jsonl" 2> >(tee "$OUT/key_real.log" >&2)
  exit 0
fi

NEEDED="resemblyzer cffi pycparser soundfile soxr pesq pystoi umap-learn pynndescent jiwer rapidfuzz librosa
platformdirs pooch decorator opencc whisper-normalizer indic-numtowords text2num webrtcvad-wheels openai-whisper
more-itertools"
IMAGE="absl-py accelerate click filelock fsspec huggingface-hub jinja2 joblib lazy-loader llvmlite matplotlib msgpack
numba numpy packaging pillow pyyaml regex requests safetensors scikit-learn scipy tiktoken tokenizers torch tqdm
transformers triton typing-extensions"
PY=${PYTHON:-python3.12}
KIT=.device-wheels
if [ -e "$KIT" ]; then  # what this script removes on failure is then always its own
  echo "error: $KIT exists: remove it first (it is this script's own output)" >&2
  exit 2
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
if ! PYTHON=$PY bash tools/wheelhouse.sh 3.12 "$WORK/all" > "$WORK/wheelhouse.log" 2>&1; then
  grep -v "is ignored: it is neither a file nor a directory" "$WORK/wheelhouse.log" | tail -20 >&2
  exit 1
fi
mkdir -p "$KIT"
trap 'rm -rf "$WORK"; [ -e "$KIT/.complete" ] || rm -rf "$KIT"' EXIT  # a kit that failed its check is not left
"$PY" - "$WORK/all" "$KIT" "$NEEDED" "$IMAGE" <<'PY'
import re, shutil, sys, zipfile
from pathlib import Path

src, kit, needed, image = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3].split(), sys.argv[4].split()
norm = lambda name: re.sub(r"[-_.]+", "-", name).lower()
needed, image = {norm(n) for n in needed}, {norm(n) for n in image}
chosen = {}
for wheel in sorted(src.glob("*.whl")):
    if norm(wheel.name.split("-")[0]) in needed:
        chosen[norm(wheel.name.split("-")[0])] = wheel
missing = sorted(needed - set(chosen))
problems = [f"no wheel for {', '.join(missing)}"] if missing else []
for name, wheel in chosen.items():
    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        for line in z.read(meta).decode("utf-8", "replace").splitlines():
            if line.startswith("Requires-Dist:") and "extra ==" not in line:
                req = norm(re.match(r"Requires-Dist:\s*([A-Za-z0-9_.-]+)", line).group(1))
                if req not in needed and req not in image and name != "resemblyzer":  # its weights only
                    problems.append(f"{name} requires {req}: neither carried nor in the image")
    shutil.copy(wheel, kit / wheel.name)
if problems:
    sys.exit("error: " + "; ".join(problems))
PY
touch "$KIT/.complete"
echo "wrote $(ls "$KIT" | wc -l) wheels ($(du -sh "$KIT" | cut -f1)) to $KIT: carry it, and run 'bash tools/device_kit.sh --run'"
