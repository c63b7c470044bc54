#!/usr/bin/env bash
# Build the one-folder app with PyInstaller (packaging/slapdesk.spec) and smoke-test it:
# the window opens offscreen and quits (SLAPDESK_SMOKE_TEST), a demo library is generated,
# scanned and embedded with the bundled default model, and a CLI search finds tracks.
# Slow (about 8 minutes on a busy 2-core machine; 1.4 GB with torch and Qt): not part of every CI run; see README "Install".
#
#   packaging/build_pyinstaller.sh             # uses .venv (installs pyinstaller into it)
#   PYTHON=/path/to/python packaging/build_pyinstaller.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY="${PYTHON:-$ROOT/.venv/bin/python}"
if ! "$PY" -c "import PyInstaller" 2>/dev/null; then
    "$PY" -m pip install --quiet "pyinstaller>=6.10"
fi
"$PY" -m PyInstaller --noconfirm --clean --distpath "$ROOT/dist/pyinstaller" \
    --workpath "$ROOT/build/pyinstaller" packaging/slapdesk.spec
APP="$ROOT/dist/pyinstaller/slapdesk/slapdesk"
echo "built $APP ($(du -sh "$(dirname "$APP")" | cut -f1))"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/slapdesk-frozen.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"  # nothing may come from the checkout
export XDG_DATA_HOME="$WORK/data" XDG_CONFIG_HOME="$WORK/config" QT_QPA_PLATFORM=offscreen
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
unset SLAPDESK_LIBRARY SLAPDESK_CONFIG PYTHONPATH
"$APP" --version
SLAPDESK_SMOKE_TEST=1 "$APP" --library "$WORK/gui.sqlite" 2>"$WORK/gui.log" \
    || { cat "$WORK/gui.log"; exit 1; }
grep "smoke test: window shown" "$WORK/gui.log"
"$APP" demo --no-gui --tracks 8 --seconds 4 "$WORK/demo" | tee "$WORK/demo.log"
grep -q "8 added" "$WORK/demo.log"
grep -q "Embedded 8 track(s)." "$WORK/demo.log"
"$APP" --library "$WORK/demo/library.sqlite" search --json --limit 3 "calm piano" \
    | tee "$WORK/search.jsonl"
test "$(wc -l <"$WORK/search.jsonl")" -ge 1
echo "PyInstaller build smoke test passed: $APP"
