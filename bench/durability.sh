#!/usr/bin/env bash
# Benchmark: what durable publication costs a daemon job. The ladder benchmark's source (a generated 12 s 1080p
# clip, default ladder, veryfast) is dropped into a release daemon, and the daemon runs under
# `strace -f --seccomp-bpf -T -e trace=fsync,fdatasync`, which stops it only at those two calls and records the time
# spent in each: every file of the package before its rename, the folders after the renames, the job store's WAL
# commits (synchronous = FULL). Each run prints the job's processing time (`duration_seconds`), the time inside the
# sync calls between the drop and the archived source, their count, and the share of the job they took.
# The same job without strace is timed too (the plain figure). Not a test: it prints figures and fails only if a run
# fails.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${WATCHFOLDER_BIN:-.build/release/watchfolder}")
SECONDS_LONG=${BENCH_SECONDS:-12}
RUNS=${BENCH_RUNS:-3}
WORK=$(mktemp -d /tmp/wf-bench-sync.XXXXXX)
DAEMON=
cleanup() { [ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

[ -x "$BIN" ] || { echo "bench: $BIN missing (run make release)"; exit 1; }
command -v strace >/dev/null || { echo "bench: strace missing (apt-get install strace)"; exit 1; }

SRC="$WORK/source-1080p.mp4"
ffmpeg -y -hide_banner -loglevel error \
  -f lavfi -i "testsrc2=size=1920x1080:rate=25:duration=$SECONDS_LONG" \
  -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$SECONDS_LONG" \
  -c:v libx264 -preset ultrafast -crf 16 -pix_fmt yuv420p -c:a aac -b:a 192k -shortest "$SRC"

# job RUN [strace]: one daemon, one dropped clip; prints "duration_seconds sync_seconds sync_calls".
job() {
  local dir="$WORK/run$1" trace="$WORK/run$1/trace.txt"
  mkdir -p "$dir"/{inbox,outbox,archive,failed,state}
  cat >"$dir/config.toml" <<TOML
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
hardware = "cpu"
preset = "veryfast"
[http]
listen = "127.0.0.1:0"
TOML
  if [ "${2:-}" = strace ]; then
    strace -f --seccomp-bpf -qq -T -y -o "$trace" -e trace=fsync,fdatasync \
      "$BIN" run --config "$dir/config.toml" >"$dir/out.txt" 2>"$dir/err.txt" &
  else
    "$BIN" run --config "$dir/config.toml" >"$dir/out.txt" 2>"$dir/err.txt" &
  fi
  DAEMON=$!
  until grep -q "drop videos" "$dir/out.txt" 2>/dev/null; do sleep 0.1; done
  local from=0
  [ -f "$trace" ] && from=$(wc -l <"$trace")
  cp "$SRC" "$dir/inbox/.clip.mp4.part" && mv "$dir/inbox/.clip.mp4.part" "$dir/inbox/clip.mp4"
  # Done when the source is archived and the move is recorded (its fsyncs and its commit are in the trace).
  until [ "$(python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1], timeout=10); print(c.execute("SELECT COUNT(*) FROM job WHERE state = '"'completed'"'").fetchone()[0], c.execute("SELECT COUNT(*) FROM effect WHERE done_at IS NOT NULL").fetchone()[0])' "$dir/state/watchfolder.sqlite" 2>/dev/null)" = "1 1" ]; do
    sleep 0.1
  done
  local to=0
  [ -f "$trace" ] && to=$(wc -l <"$trace")
  local duration
  duration=$("$BIN" jobs --json --config "$dir/config.toml" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["duration_seconds"])')
  # SIGTERM to the daemon (strace's child when traced), then wait for it.
  local pid=$DAEMON
  [ "${2:-}" = strace ] && pid=$(cat "/proc/$DAEMON/task/$DAEMON/children" | cut -d' ' -f1)
  kill "$pid"; wait "$DAEMON" || true; DAEMON=
  if [ -f "$trace" ]; then
    # "duration total calls package source folders store": seconds in the package's files and folders (before its
    # rename), in the source (before it is archived), in the destination and source folders (after each rename), in
    # the job store (WAL commits, the progress updates made during the encode included).
    sed -n "$((from + 1)),${to}p" "$trace" | grep -E 'fsync|fdatasync' | awk -v d="$duration" '
      match($0, /<[0-9.]+>$/) { t = substr($0, RSTART + 1, RLENGTH - 2) + 0; s += t; n++
        if ($0 ~ /\/package[\/>]/) p += t; else if ($0 ~ /\/inbox\/clip\.mp4>/) src += t
        else if ($0 ~ /watchfolder\.sqlite/) db += t; else f += t }
      END { printf "%s %.3f %d %.3f %.3f %.3f %.3f\n", d, s, n, p, src, f, db }'
  else
    echo "$duration 0 0 0 0 0 0"
  fi
}

echo "job: ${SECONDS_LONG} s 1080p source, default ladder (1080/720/480/360), veryfast, release build"
for i in $(seq "$RUNS"); do
  read -r plain _ < <(job "p$i")
  read -r traced sync calls package source folders store < <(job "s$i" strace)
  awk -v p="$plain" -v t="$traced" -v s="$sync" -v n="$calls" -v pk="$package" -v sr="$source" -v fo="$folders" \
      -v db="$store" 'BEGIN {
    printf "run: job %.2f s plain, %.2f s traced; %d fsync/fdatasync calls took %.3f s = %.2f%% of the plain job", p, t, n, s, 100 * s / p
    printf " (package %.3f s, source %.3f s, folders %.3f s, store %.3f s)\n", pk, sr, fo, db }'
done
