#!/usr/bin/env bash
# Job-store benchmark (#17): 10,000 no-op jobs enqueued (intake's batches of 2,000), then each claimed under a lease,
# moved to publishing and completed, by one node on SQLite; jobs per second, and the store's overhead per job against
# a reference run in the same invocation: bare SQLite doing the same inserts and three synced one-row updates per job.
# Then the same on the PostgreSQL store (the cluster make test starts: loopback, fsync off), by 1 node and by 4 nodes
# claiming at once, against bare PostgreSQL doing the same inserts and three one-row updates per job, as many clients.
# Usage: bench/store.sh   (BENCH_TMPDIR picks the disk; the default is $TMPDIR or /tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/out
swift build --build-tests >/dev/null
TMPDIR="${BENCH_TMPDIR:-${TMPDIR:-/tmp}}" WATCHFOLDER_BENCH=1 swift test --skip-build --filter StoreBenchmark \
    >bench/out/store.log 2>&1 || {
    grep -E "✘|error:|recorded an issue" bench/out/store.log >&2 || tail -20 bench/out/store.log >&2
    exit 1
}
grep '^BENCH' bench/out/store.log | sed 's/^BENCH /  /'
