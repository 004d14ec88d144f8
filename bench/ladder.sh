#!/usr/bin/env bash
# Benchmark: the default HLS ladder (1080/720/480/360 at 5000/2800/1400/800k, maxrate 1.07x, bufsize 1.5x,
# 6 s segments, veryfast) from a generated 1080p clip: `watchfolder transcode` (release build) against the
# ffmpeg CLI doing the same ladder in one process (split filter, 4 libx264 encodes, hls muxer). Back to back,
# best of 3 each. Prints the wall-time ratio and the peak-RSS ratio (targets: <= 1.05x and <= 1.1x).
# Not a test: it prints figures and fails only if a run fails.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${WATCHFOLDER_BIN:-.build/release/watchfolder}
SECONDS_LONG=${BENCH_SECONDS:-12}
RUNS=${BENCH_RUNS:-3}
PRESET=${BENCH_PRESET:-veryfast}
WORK=$(mktemp -d /tmp/wf-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

[ -x "$BIN" ] || { echo "bench: $BIN missing (run make release)"; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "bench: /usr/bin/time missing (apt-get install time)"; exit 1; }

SRC="$WORK/source-1080p.mp4"
ffmpeg -y -hide_banner -loglevel error \
  -f lavfi -i "testsrc2=size=1920x1080:rate=25:duration=$SECONDS_LONG" \
  -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$SECONDS_LONG" \
  -c:v libx264 -preset ultrafast -crf 16 -pix_fmt yuv420p -c:a aac -b:a 192k -shortest "$SRC"

# measure COMMAND...: prints "wall_seconds max_rss_kb cpu_seconds" (cpu = user + sys)
measure() {
  local out="$WORK/time.txt"
  /usr/bin/time -f "%e %M %U %S" -o "$out" "$@" >/dev/null 2>"$WORK/stderr.txt" || { cat "$WORK/stderr.txt"; return 1; }
  awk '{ printf "%s %s %.2f\n", $1, $2, $3 + $4 }' "$out"
}

run_watchfolder() {
  rm -rf "$WORK/wf"
  measure "$BIN" transcode "$SRC" --out "$WORK/wf" --hardware cpu --preset "$PRESET" --progress none
}

run_ffmpeg() {
  rm -rf "$WORK/ff"; mkdir -p "$WORK/ff"
  measure ffmpeg -y -hide_banner -loglevel error -i "$SRC" \
    -filter_complex "[0:v]split=4[a][b][c][d];[a]scale=1920:1080[v0];[b]scale=1280:720[v1];[c]scale=854:480[v2];[d]scale=640:360[v3]" \
    -map "[v0]" -map "[v1]" -map "[v2]" -map "[v3]" -map 0:a -map 0:a -map 0:a -map 0:a \
    -c:v libx264 -preset "$PRESET" -profile:v high -pix_fmt yuv420p -sc_threshold 0 \
    -force_key_frames "expr:gte(t,n_forced*6)" \
    -b:v:0 5000k -maxrate:v:0 5350k -bufsize:v:0 7500k \
    -b:v:1 2800k -maxrate:v:1 2996k -bufsize:v:1 4200k \
    -b:v:2 1400k -maxrate:v:2 1498k -bufsize:v:2 2100k \
    -b:v:3 800k -maxrate:v:3 856k -bufsize:v:3 1200k \
    -c:a aac -b:a 128k -ac 2 -ar 48000 \
    -f hls -hls_time 6 -hls_playlist_type vod -hls_flags independent_segments \
    -hls_segment_filename "$WORK/ff/%v/seg_%05d.ts" -master_pl_name master.m3u8 \
    -var_stream_map "v:0,a:0 v:1,a:1 v:2,a:2 v:3,a:3" "$WORK/ff/%v/index.m3u8"
}

best_wall() { sort -n -k1,1 | head -1 | cut -d' ' -f1; }
best_rss() { sort -n -k2,2 | head -1 | cut -d' ' -f2; }
best_cpu() { sort -n -k3,3 | head -1 | cut -d' ' -f3; }

: >"$WORK/wf.txt"; : >"$WORK/ff.txt"
for i in $(seq "$RUNS"); do
  run_watchfolder >>"$WORK/wf.txt"
  run_ffmpeg >>"$WORK/ff.txt"
done
wf_wall=$(best_wall <"$WORK/wf.txt"); ff_wall=$(best_wall <"$WORK/ff.txt")
wf_rss=$(best_rss <"$WORK/wf.txt"); ff_rss=$(best_rss <"$WORK/ff.txt")
wf_cpu=$(best_cpu <"$WORK/wf.txt"); ff_cpu=$(best_cpu <"$WORK/ff.txt")
echo "source: ${SECONDS_LONG} s 1080p25 H.264+AAC; ladder 1080/720/480/360, preset $PRESET, best of $RUNS"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (wall times are noisy on a shared machine; CPU time is not)"
echo "runs (wall s, peak RSS KB, CPU s): watchfolder: $(tr '\n' ';' <"$WORK/wf.txt") ffmpeg: $(tr '\n' ';' <"$WORK/ff.txt")"
printf "watchfolder: %6.2f s  %8d KB  %6.2f CPU s\n" "$wf_wall" "$wf_rss" "$wf_cpu"
printf "ffmpeg CLI:  %6.2f s  %8d KB  %6.2f CPU s\n" "$ff_wall" "$ff_rss" "$ff_cpu"
awk -v a="$wf_wall" -v b="$ff_wall" -v c="$wf_rss" -v d="$ff_rss" -v e="$wf_cpu" -v f="$ff_cpu" \
  'BEGIN { printf "wall ratio: %.3fx (target <= 1.05x)\npeak RSS ratio: %.3fx (target <= 1.10x)\nCPU time ratio: %.3fx\n", a/b, c/d, e/f }'
