#!/usr/bin/env bash
# Benchmark: what HDR tone mapping costs. Two 1080p25 10-bit H.264 sources made from the same pictures, one tagged
# HLG (BT.2020, arib-std-b67), one tagged SDR BT.709; `watchfolder transcode` (release build, default ladder,
# hdr = "tonemap") on each, back to back, best of 3. Prints the HLG/SDR ratio of wall and CPU time: the extra
# cost of zscale + tonemap (Hable) on the decoded 1080p pictures. Not a test: it fails only if a run fails.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${WATCHFOLDER_BIN:-.build/release/watchfolder}
SECONDS_LONG=${BENCH_SECONDS:-12}
RUNS=${BENCH_RUNS:-3}
PRESET=${BENCH_PRESET:-veryfast}
WORK=$(mktemp -d /tmp/wf-bench-hdr.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

[ -x "$BIN" ] || { echo "bench: $BIN missing (run make release)"; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "bench: /usr/bin/time missing (apt-get install time)"; exit 1; }

make_source() {  # make_source NAME PRIMARIES TRANSFER MATRIX
  ffmpeg -y -hide_banner -loglevel error \
    -f lavfi -i "testsrc2=size=1920x1080:rate=25:duration=$SECONDS_LONG" \
    -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$SECONDS_LONG" \
    -c:v libx264 -preset ultrafast -crf 16 -pix_fmt yuv420p10le \
    -color_primaries "$2" -color_trc "$3" -colorspace "$4" -c:a aac -b:a 192k -shortest "$WORK/$1.mp4"
}
make_source hlg bt2020 arib-std-b67 bt2020nc
make_source sdr bt709 bt709 bt709

# run NAME: prints "wall_seconds cpu_seconds"
run() {
  rm -rf "$WORK/out-$1"
  /usr/bin/time -f "%e %U %S" -o "$WORK/time.txt" "$BIN" transcode "$WORK/$1.mp4" --out "$WORK/out-$1" \
    --hardware cpu --preset "$PRESET" --progress none >/dev/null 2>"$WORK/stderr.txt" || { cat "$WORK/stderr.txt"; return 1; }
  awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "$WORK/time.txt"
}

: >"$WORK/hlg.txt"; : >"$WORK/sdr.txt"
for i in $(seq "$RUNS"); do
  run sdr >>"$WORK/sdr.txt"
  run hlg >>"$WORK/hlg.txt"
done
best() { sort -n -k"$1","$1" | head -1 | cut -d' ' -f"$1"; }
sw=$(best 1 <"$WORK/sdr.txt"); hw=$(best 1 <"$WORK/hlg.txt")
sc=$(best 2 <"$WORK/sdr.txt"); hc=$(best 2 <"$WORK/hlg.txt")
echo "source: ${SECONDS_LONG} s 1080p25 10-bit H.264+AAC; default ladder, preset $PRESET, best of $RUNS"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "runs (wall s, CPU s): SDR: $(tr '\n' ';' <"$WORK/sdr.txt") HLG: $(tr '\n' ';' <"$WORK/hlg.txt")"
printf "SDR BT.709:        %6.2f s  %6.2f CPU s\n" "$sw" "$sc"
printf "HLG tone-mapped:   %6.2f s  %6.2f CPU s\n" "$hw" "$hc"
awk -v a="$hw" -v b="$sw" -v c="$hc" -v d="$sc" \
  'BEGIN { printf "tone mapping: wall %.3fx, CPU %.3fx the SDR run\n", a/b, c/d }'
