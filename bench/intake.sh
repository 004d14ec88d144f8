#!/usr/bin/env bash
# Intake figures (docs/intake.md): latency from a file's last close to its `.settled` event with
# settle_seconds = 0 over 1,000 files (target p99 < 50 ms), and a 10,000-file flood: time until every file is
# recorded (< 10 s), peak RSS (< 100 MB), files lost (0). Runs the gated benchmark tests of the intake alone;
# the daemon-level figure (close -> job row) can reuse them once the daemon is wired.
#   BENCH_TMPDIR=/dev/shm bench/intake.sh   # measure on tmpfs, taking the disk out of the flood figure
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/out
swift build --build-tests >/dev/null
export TMPDIR="${BENCH_TMPDIR:-${TMPDIR:-/tmp}}"
WATCHFOLDER_BENCH=1 swift test --skip-build --filter IntakeBenchmark >bench/out/intake.log 2>&1 || {
    grep -E "✘|error:|recorded an issue" bench/out/intake.log >&2 || tail -20 bench/out/intake.log >&2
    exit 1
}
grep '^BENCH' bench/out/intake.log | sed 's/^BENCH //'
