#!/usr/bin/env bash
# Upload benchmark: a 200 MiB package (many segments plus some large files) to moto_server on loopback
# (Tests/Peers/moto_server.py, signatures checked), by `watchfolder s3-upload` and by `aws s3 cp --recursive`
# (awscli from PyPI), in the same run against the same server. Prints both times and the ratio aws/watchfolder
# (>= 1.0 means watchfolder is no slower). Target: ratio >= 1.0.
#
# Usage: bench/upload.sh            (uses .build/release/watchfolder, else .build/debug/watchfolder;
#                                    WATCHFOLDER_BIN overrides)
# Knobs: SEGMENTS (default 152), SEGMENT_KIB (1024), LARGE_FILES (2), LARGE_MIB (24), CONCURRENCY (4)
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${WATCHFOLDER_BIN:-}
if [[ -z "$BIN" ]]; then
    if [[ -x .build/release/watchfolder ]]; then BIN=.build/release/watchfolder; else BIN=.build/debug/watchfolder; fi
fi
[[ -x "$BIN" ]] || { echo "upload.sh: build watchfolder first (make release)" >&2; exit 1; }
command -v aws >/dev/null || { echo "upload.sh: awscli is not installed (pip install awscli)" >&2; exit 1; }

SEGMENTS=${SEGMENTS:-152}
SEGMENT_KIB=${SEGMENT_KIB:-1024}
LARGE_FILES=${LARGE_FILES:-2}
LARGE_MIB=${LARGE_MIB:-24}
CONCURRENCY=${CONCURRENCY:-4}

WORK=$(mktemp -d /tmp/wf-bench-upload.XXXXXX)
PEER_PID=""
cleanup() {
    [[ -n "$PEER_PID" ]] && kill "$PEER_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# The package: master + media playlist, SEGMENTS segments, LARGE_FILES large MP4s (multipart for both tools).
PKG="$WORK/pkg"
mkdir -p "$PKG/v0"
printf '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=4000000\nv0/index.m3u8\n' > "$PKG/master.m3u8"
{
    echo "#EXTM3U"; echo "#EXT-X-TARGETDURATION:4"
    for ((i = 0; i < SEGMENTS; i++)); do echo "#EXTINF:4.0,"; printf 'seg_%04d.ts\n' "$i"; done
    echo "#EXT-X-ENDLIST"
} > "$PKG/v0/index.m3u8"
head -c $((SEGMENTS * SEGMENT_KIB * 1024 + LARGE_FILES * LARGE_MIB * 1048576)) /dev/urandom > "$WORK/random"
for ((i = 0; i < SEGMENTS; i++)); do
    dd if="$WORK/random" of="$(printf '%s/v0/seg_%04d.ts' "$PKG" "$i")" bs=1024 skip=$((i * SEGMENT_KIB)) \
       count="$SEGMENT_KIB" status=none
done
for ((i = 0; i < LARGE_FILES; i++)); do
    dd if="$WORK/random" of="$PKG/large_$i.mp4" bs=1048576 \
       skip=$((SEGMENTS * SEGMENT_KIB / 1024 + i * LARGE_MIB)) count="$LARGE_MIB" status=none
done
rm "$WORK/random"
FILES=$(find "$PKG" -type f | wc -l)
MIB=$(du -sm --apparent-size "$PKG" | cut -f1)

# The server: moto with signature checking on; the peer prints its endpoint and keys, then serves until killed.
mkfifo "$WORK/peer-stdin"
python3 Tests/Peers/moto_server.py < "$WORK/peer-stdin" > "$WORK/peer.json" 2>/dev/null &
PEER_PID=$!
exec 9> "$WORK/peer-stdin"
for _ in $(seq 1 300); do [[ -s "$WORK/peer.json" ]] && break; sleep 0.1; done
[[ -s "$WORK/peer.json" ]] || { echo "upload.sh: moto_server did not start" >&2; exit 1; }
read -r ENDPOINT KEY SECRET < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); print(d["endpoint"], d["user"]["access_key_id"], d["user"]["secret_access_key"])' \
    "$WORK/peer.json")
curl -sf -X POST "$ENDPOINT/_peer/bucket?name=bench-wf" > /dev/null
curl -sf -X POST "$ENDPOINT/_peer/bucket?name=bench-aws" > /dev/null

cat > "$WORK/config.toml" <<EOF
[inbox]
path = "inbox"
failed_path = "failed"
on_success = "keep"
[state]
path = "state"
[outbox]
path = "outbox"
[s3]
bucket = "bench-wf"
endpoint = "$ENDPOINT"
path_style = true
access_key_id = "$KEY"
secret_access_key = "$SECRET"
upload_concurrency = $CONCURRENCY
EOF

now() { date +%s.%N; }
echo "package: $FILES files, $MIB MiB ($SEGMENTS segments of $SEGMENT_KIB KiB, $LARGE_FILES files of $LARGE_MIB MiB)"

t0=$(now)
"$BIN" s3-upload "$PKG" --key pkg --config "$WORK/config.toml" > /dev/null
t1=$(now)
AWS_ACCESS_KEY_ID=$KEY AWS_SECRET_ACCESS_KEY=$SECRET AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null \
    AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    aws s3 cp --recursive --only-show-errors --endpoint-url "$ENDPOINT" "$PKG" s3://bench-aws/pkg/
t2=$(now)

count() { curl -sf "$ENDPOINT/_peer/objects?bucket=$1" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
WF_OBJECTS=$(count bench-wf)
AWS_OBJECTS=$(count bench-aws)
[[ "$WF_OBJECTS" == "$FILES" && "$AWS_OBJECTS" == "$FILES" ]] || {
    echo "upload.sh: objects stored: watchfolder $WF_OBJECTS, aws $AWS_OBJECTS, expected $FILES" >&2; exit 1; }

python3 - "$t0" "$t1" "$t2" "$MIB" "$BIN" <<'EOF'
import sys
t0, t1, t2, mib = map(float, sys.argv[1:5])
ours, aws = t1 - t0, t2 - t1
print(f"watchfolder s3-upload ({sys.argv[5]}): {ours:.2f} s ({mib / ours:.1f} MiB/s)")
print(f"aws s3 cp --recursive:  {aws:.2f} s ({mib / aws:.1f} MiB/s)")
print(f"ratio (aws / watchfolder): {aws / ours:.2f}  (target >= 1.0)")
EOF
