#!/usr/bin/env bash
# Build the wheel, install it into a throwaway virtual environment and use it from outside
# the checkout, so that everything (resources, vocabularies, the default model when the
# checkout has one) must come from the installed wheel. Exits non-zero on any failure.
#
#   tools/smoke_wheel.sh            # uses .venv/bin/python for `python -m build`
#   KEEP=1 tools/smoke_wheel.sh     # keep the temporary folder for a look afterwards
#
# pip's cache (~/.cache/pip) is reused, so a second run installs from it. torch==2.13.0 (the
# CPU build) is installed first, as tools/install.sh does, so the wheel's torch>=2.4 is met
# without pulling a CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_PY="${BUILD_PYTHON:-$ROOT/.venv/bin/python}"
BASE_PY="${PYTHON:-python3}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/slapdesk-wheel.XXXXXX")
if [ -z "${KEEP:-}" ]; then trap 'rm -rf "$WORK"' EXIT; else echo "keeping $WORK"; fi
step() { printf '\n== %s (%ds)\n' "$1" "$SECONDS"; }

step "build the wheel"
if ! "$BUILD_PY" -c "import build, hatchling" 2>/dev/null; then
    "$BUILD_PY" -m pip install --quiet "build>=1.2" "hatchling>=1.25"
fi
# --no-isolation: build with the hatchling installed above instead of a fresh build env
# (which pip would fill from the index on every run: minutes on a busy machine).
"$BUILD_PY" -m build --wheel --no-isolation --outdir "$WORK/dist" "$ROOT" >"$WORK/build.log" 2>&1 \
    || { cat "$WORK/build.log"; exit 1; }
WHEEL=$(ls "$WORK"/dist/slapdesk-*.whl)
echo "$WHEEL ($(du -h "$WHEEL" | cut -f1))"
"$BUILD_PY" - "$WHEEL" <<'PY'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
need = ["slapdesk/_resources/vocab/genre.toml", "slapdesk/cli.py", "engine/bundle.py"]
missing = [n for n in need if n not in names]
assert not missing, f"wheel lacks {missing}"
assert not any(n.startswith(("tests/", "tools/")) for n in names), "wheel ships tests/tools"
print(f"{len(names)} files; resources included")
PY

step "install it into a fresh virtual environment"
"$BASE_PY" -m venv "$WORK/venv"
BIN="$WORK/venv/bin"
# --no-compile: byte-compiling torch and Qt costs minutes and tests nothing here.
pip_install() {
    "$BIN/pip" install --quiet --no-compile "$@" >>"$WORK/pip.log" 2>&1 \
        || { tail -50 "$WORK/pip.log"; exit 1; }
}
pip_install "torch==2.13.0"
pip_install "$WHEEL"

step "use it from outside the checkout"
cd "$WORK"
export XDG_DATA_HOME="$WORK/data" XDG_CONFIG_HOME="$WORK/config" QT_QPA_PLATFORM=offscreen
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
unset SLAPDESK_LIBRARY SLAPDESK_CONFIG PYTHONPATH
"$BIN/slapdesk" --help >/dev/null
"$BIN/slapdesk" --version
"$BIN/python" - "$ROOT" <<'PY'
import sys
from pathlib import Path
import slapdesk
from slapdesk.resources import resources_dir
root = Path(sys.argv[1]).resolve()
found = resources_dir().resolve()
assert root not in Path(slapdesk.__file__).resolve().parents, f"imported from the checkout: {slapdesk.__file__}"
assert found.name == "_resources" and "site-packages" in found.parts, found
print(f"resources from the wheel: {found}")
PY
"$BIN/slapdesk" demo --no-gui --tracks 8 --seconds 4 "$WORK/demo" | tee "$WORK/demo.log"
grep -q "8 added" "$WORK/demo.log"
if [ -f "$ROOT/resources/models/default/config.json" ]; then
    # The checkout ships a default model: the wheel must carry it and embed with it.
    "$BIN/slapdesk" --library "$WORK/demo/library.sqlite" models | tee "$WORK/models.log"
    grep -q "default" "$WORK/models.log"
    grep -q "Embedded 8 track(s)." "$WORK/demo.log"
    QUERY="calm piano"
else
    echo "(no default model in this checkout: search runs on tags only)"
    QUERY="genre:jazz"
fi
"$BIN/slapdesk" --library "$WORK/demo/library.sqlite" search --json --limit 3 "$QUERY" \
    | tee "$WORK/search.jsonl"
test "$(wc -l <"$WORK/search.jsonl")" -ge 1

step "wheel smoke test passed"
