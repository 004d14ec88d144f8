#!/usr/bin/env bash
# Intake benchmark: latency from a file's last close to its job row (settle_seconds = 0), p50/p99 over 1,000
# files; then a 10,000-file flood: time until all are recorded, the daemon's peak RSS, files lost.
# Targets: p99 < 50 ms; flood < 10 s; peak RSS < 100 MB; lost 0.
# Usage: bench/intake.sh   (WATCHFOLDER_BIN overrides the binary, default .build/release/watchfolder)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${WATCHFOLDER_BIN:-.build/release/watchfolder}
[[ -x $BIN ]] || { echo "bench/intake.sh: $BIN is missing (make release)" >&2; exit 1; }
BIN=$(realpath "$BIN")
DIR=$(mktemp -d /tmp/wf-bench-intake.XXXXXX)
PID=
cleanup() { [[ -n $PID ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$DIR"; }
trap cleanup EXIT

start_daemon() {  # $1 = name of the run
    local run=$DIR/$1
    mkdir -p "$run/inbox"
    cat > "$run/config.toml" <<TOML
[inbox]
path = "inbox"
archive_path = "archive"
failed_path = "failed"
settle_seconds = 0
[state]
path = "state"
[outbox]
path = "outbox"
[transcode]
max_attempts = 1
[log]
level = "warning"
TOML
    "$BIN" run --config "$run/config.toml" > "$run/daemon.out" 2> "$run/daemon.err" &
    PID=$!
    for _ in $(seq 100); do grep -q "drop videos into" "$run/daemon.out" 2>/dev/null && return; sleep 0.1; done
    echo "bench/intake.sh: the daemon did not start: $(cat "$run/daemon.err")" >&2; exit 1
}

stop_daemon() { kill -TERM "$PID"; wait "$PID" || true; PID=; }

# 1. Latency over 1,000 files written one after another (the files are not video: their jobs fail, cheaply).
start_daemon latency
python3 - "$DIR/latency" <<'PY'
import json, os, sqlite3, sys, time
run = sys.argv[1]
closed = {}
for i in range(1000):
    path = f"{run}/inbox/lat{i:04d}.mp4"
    with open(path, "wb") as f:
        f.write(b"x" * 1024)
    closed[f"lat{i:04d}.mp4"] = time.time()
    time.sleep(0.01)
db = sqlite3.connect(f"{run}/state/watchfolder.sqlite", timeout=10)
deadline = time.time() + 60
while time.time() < deadline:
    if db.execute("SELECT COUNT(*) FROM job").fetchone()[0] >= 1000:
        break
    time.sleep(0.2)
# created_at is UTC 'YYYY-MM-DD HH:MM:SS.SSS' (GRDB).
rows = db.execute("SELECT source_path, CAST(strftime('%s', created_at) AS REAL) + (CAST(substr(created_at, 21, 3) AS REAL) / 1000) FROM job").fetchall()
lat = sorted((created - closed[src]) * 1000 for src, created in rows if src in closed)
lost = 1000 - len(lat)
def pct(p): return lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))] if lat else float("nan")
print(f"latency (last close -> job row, settle 0; created_at has 1 ms resolution): n={len(lat)} "
      f"min={lat[0] if lat else float('nan'):.1f} p50={pct(50):.1f} ms p99={pct(99):.1f} ms "
      f"max={lat[-1] if lat else float('nan'):.1f} ms lost={lost}")
PY
stop_daemon

# 2. A flood of 10,000 files moved into the inbox at once.
start_daemon flood
python3 - "$DIR/flood" "$PID" <<'PY'
import os, sqlite3, sys, time
run, pid = sys.argv[1], sys.argv[2]
staging = f"{run}/staging"
os.makedirs(staging)
for i in range(10000):
    with open(f"{staging}/flood{i:05d}.mp4", "wb") as f:
        f.write(b"y" * 512)
db = sqlite3.connect(f"{run}/state/watchfolder.sqlite", timeout=10)
start = time.time()
for i in range(10000):
    os.rename(f"{staging}/flood{i:05d}.mp4", f"{run}/inbox/flood{i:05d}.mp4")
moved = time.time() - start
count = 0
while time.time() - start < 120:
    count = db.execute("SELECT COUNT(*) FROM job").fetchone()[0]
    if count >= 10000:
        break
    time.sleep(0.05)
elapsed = time.time() - start
time.sleep(1)
total, distinct = db.execute("SELECT COUNT(*), COUNT(DISTINCT source_path) FROM job").fetchone()
hwm = next(l for l in open(f"/proc/{pid}/status") if l.startswith("VmHWM")).split()[1]
print(f"flood: 10000 files moved in {moved:.2f} s; all recorded after {elapsed:.2f} s; "
      f"peak RSS {int(hwm) / 1024:.1f} MB; recorded {total} ({distinct} distinct); lost {10000 - distinct}; duplicates {total - distinct}")
PY
stop_daemon
