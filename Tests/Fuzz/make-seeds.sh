#!/usr/bin/env bash
# Writes the fuzzer's seed corpus into DIR: tiny clips (64x36, 10 fps, 0.3-0.5 s) in every container the engine
# accepts, made with the ffmpeg CLI (the shapes of the test corpus), and the playlists and manifests it must refuse.
# A few KB each; made at fuzz time, never committed.   Usage: Tests/Fuzz/make-seeds.sh DIR
set -euo pipefail
dir=${1:?usage: make-seeds.sh DIR}
mkdir -p "$dir"
cd "$dir"

ff() { ffmpeg -nostdin -y -hide_banner -loglevel error "$@"; }
v="testsrc2=size=64x36:rate=10"
a="sine=frequency=440:sample_rate=8000"
av() { local secs=$1; shift; ff -f lavfi -i "$v:duration=$secs" -f lavfi -i "$a:duration=$secs" -shortest "$@"; }
vo() { local secs=$1; shift; ff -f lavfi -i "$v:duration=$secs" "$@"; }
# MPEG-1/2 video and MXF take standard rates only.
av25() { local secs=$1; shift; ff -f lavfi -i "testsrc2=size=64x36:rate=25:duration=$secs" -f lavfi -i "$a:duration=$secs" -shortest "$@"; }

av 0.5 -c:v libx264 -preset ultrafast -g 3 -c:a aac -b:a 16k mp4-h264-aac.mp4
av 0.4 -c:v libx264 -preset ultrafast -bf 2 -c:a aac -b:a 16k -movflags +faststart mp4-faststart-bframes.mp4
av 0.4 -c:v libx264 -preset ultrafast -c:a aac -b:a 16k -movflags frag_keyframe+empty_moov mp4-fragmented.mp4
vo 0.4 -c:v libx264 -preset ultrafast -pix_fmt yuv422p10le -metadata:s:v rotate=90 mp4-10bit-422-rotated.mp4
av 0.4 -c:v mpeg4 -c:a pcm_s16le mov-mpeg4-pcm.mov
vo 0.3 -c:v prores_ks -profile:v 0 mov-prores.mov
av 0.4 -c:v libx264 -preset ultrafast -c:a libvorbis -b:a 32k mkv-h264-vorbis.mkv
av 0.4 -c:v libvpx -b:v 50k -c:a libopus -b:a 16k webm-vp8-opus.webm
vo 0.3 -c:v libvpx-vp9 -b:v 50k -deadline realtime webm-vp9.webm
av25 0.2 -c:v mpeg2video -c:a mp2 -b:a 32k ts-mpeg2-mp2.ts
av 0.4 -c:v libx264 -preset ultrafast -flags +ilme+ildct -x264-params tff=1 -c:a aac -b:a 16k ts-h264-interlaced.ts
av25 0.2 -c:v mpeg1video -c:a mp2 -b:a 32k -f mpeg ps-mpeg1.mpg
av 0.4 -c:v mpeg4 -c:a pcm_u8 avi-mpeg4.avi
av25 0.2 -c:v mpeg2video -c:a pcm_s16le -ar 48000 mxf-mpeg2.mxf
av 0.4 -c:v flv1 -c:a pcm_s16le -ar 11025 flv-flv1.flv
av 0.4 -c:v libx264 -preset ultrafast -c:a aac -b:a 16k flv-h264-aac.flv
av 0.4 -c:v libtheora -q:v 1 -c:a libvorbis -b:a 32k ogg-theora-vorbis.ogv
av 0.4 -c:v wmv2 -c:a wmav2 -b:a 32k asf-wmv2.wmv
ff -f lavfi -i "testsrc2=size=64x36:rate=25:duration=0.2" -c:v mpeg2video -f mpeg2video es-mpeg2.m2v
ff -f lavfi -i "$a:duration=0.3" -c:a pcm_s16le wav-pcm.wav
ff -f lavfi -i "$a:duration=0.3" -c:a libmp3lame -b:a 16k audio.mp3

# Playlists, manifests and indirections: the engine refuses every one unread.
printf '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n/srv/watchfolder/archive/other.mp4\n#EXT-X-ENDLIST\n' > hls-absolute.m3u8
printf '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n../outbox/x/720p/index.m3u8\n' > hls-master-relative.m3u8
printf '#EXTM3U\n#EXT-X-TARGETDURATION:100000\n#EXTINF:100000,\nhttp://127.0.0.1:9/a.ts\n' > hls-live-url.m3u8
printf '<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static"><Period><AdaptationSet><Representation id="1" bandwidth="1"><BaseURL>file:///etc/passwd</BaseURL></Representation></AdaptationSet></Period></MPD>\n' > dash.mpd
printf 'ffconcat version 1.0\nfile /etc/passwd\nfile subfile,,start,0,end,0,,:/etc/hostname\n' > concat.ffconcat
printf 'v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\nm=video 9 RTP/AVP 96\na=rtpmap:96 H264/90000\n' > session.sdp
printf '1\n00:00:00,000 --> 00:00:01,000\nhello\n' > subtitles.srt
vo 0.1 -frames:v 1 image.png
