// Shims for what Swift cannot import from libav*: function-like macros and variadics.
// Only Sources/Pipeline/FFmpeg (and the Pipeline tests of its wrappers) may import this module.
#ifndef CAV_SHIM_H
#define CAV_SHIM_H

#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/avutil.h>
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/dovi_meta.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libavutil/samplefmt.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/hwcontext.h>
#include <libswscale/swscale.h>
#include <libswresample/swresample.h>

/// AVERROR(e) is a function-like macro.
static inline int CAV_AVERROR(int e) { return AVERROR(e); }
/// AVERROR_EOF is built with FFERRTAG, a macro Swift cannot evaluate.
static inline int CAV_AVERROR_EOF(void) { return AVERROR_EOF; }
static inline int CAV_AVERROR_EAGAIN(void) { return AVERROR(EAGAIN); }
static inline int CAV_AVERROR_INVALIDDATA(void) { return AVERROR_INVALIDDATA; }
static inline int CAV_AVERROR_EXIT(void) { return AVERROR_EXIT; }
static inline int64_t CAV_AV_NOPTS_VALUE(void) { return AV_NOPTS_VALUE; }

#endif
