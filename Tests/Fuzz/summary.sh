#!/usr/bin/env bash
# The end of `make fuzz`: executions, executions/s, coverage and corpus from libFuzzer's log (fork mode), and the
# findings; exits 1 when there is any.   Usage: Tests/Fuzz/summary.sh FUZZ_LOG FINDINGS_DIR
set -euo pipefail
log=$1 findings=$2
last=$(grep -E '^#[0-9]+: cov: ' "$log" | tail -1 || true)
if [ -z "$last" ]; then echo "fuzz: no statistics in $log"; exit 1; fi
# #8123: cov: 2210 ft: 4017 corp: 380 exec/s: 12 oom/timeout/crash: 0/0/0 time: 600s job: 40 dft_time: 0
read -r runs cov ft corp secs < <(sed -E 's/^#([0-9]+): cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+).* time: ([0-9]+)s.*/\1 \2 \3 \4 \5/' <<<"$last")
echo "fuzz: $runs executions in ${secs} s ($(( runs / (secs > 0 ? secs : 1) )) exec/s), cov: $cov ft: $ft, corpus: $corp inputs"
shopt -s nullglob
# libFuzzer also keeps inputs that took over 10 s (slow-unit-*): on a loaded machine, plain inputs. Listed, not failures
# (a hang is a timeout-*, past -timeout).
slow=("$findings"/slow-unit-*)
if [ ${#slow[@]} -gt 0 ]; then echo "fuzz: ${#slow[@]} input(s) took over 10 s (not failures; replay them to see whether they are slow alone):"; printf '  %s\n' "${slow[@]}"; fi
found=("$findings"/crash-* "$findings"/timeout-* "$findings"/leak-* "$findings"/oom-*)
if [ ${#found[@]} -eq 0 ]; then echo "fuzz: no findings"; exit 0; fi
echo "fuzz: ${#found[@]} finding(s); reproduce one with SWIFT_BACKTRACE=enable=no $(dirname "$findings")/release/PipelineFuzz FILE (ASAN_OPTIONS=fast_unwind_on_malloc=0 for whole stacks):"
printf '  %s\n' "${found[@]}"
exit 1
