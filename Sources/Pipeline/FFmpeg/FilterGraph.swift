import CAV

/// An owned `AVFilterGraph` with one source (`buffer`/`abuffer`) and named sinks, freed in `deinit`.
///
/// The graph is written in libavfilter's syntax; `[in]` is the source and each sink label (`[v0]`,
/// `[thumb]`...) names a sink.
final class FilterGraph {
    let raw: UnsafeMutablePointer<AVFilterGraph>
    let source: UnsafeMutablePointer<AVFilterContext>
    /// Sinks in the order of the `sinkLabels` given to `init`.
    let sinks: [UnsafeMutablePointer<AVFilterContext>]

    /// Builds and configures the graph.
    /// - Parameters:
    ///   - audio: `abuffer`/`abuffersink` instead of `buffer`/`buffersink`.
    ///   - sourceArgs: the source's options (`video_size=...:pix_fmt=...:time_base=...`).
    ///   - description: the graph between `[in]` and the sink labels.
    /// - Throws: ``MediaError`` naming the libavfilter call that failed.
    init(audio: Bool, sourceArgs: String, description: String, sinkLabels: [String]) throws(MediaError) {
        guard let g = avfilter_graph_alloc() else {
            throw MediaError(stage: "filter", call: "avfilter_graph_alloc", code: CAV_AVERROR(ENOMEM))
        }
        raw = g
        var src: UnsafeMutablePointer<AVFilterContext>? = nil
        var ret = avfilter_graph_create_filter(&src, avfilter_get_by_name(audio ? "abuffer" : "buffer"), "in",
                                               sourceArgs, nil, g)
        guard ret >= 0, let src else {
            avfilter_graph_free_wrapper(g)
            throw MediaError(stage: "filter", call: "avfilter_graph_create_filter(\(audio ? "abuffer" : "buffer"))", code: ret)
        }
        source = src
        var made: [UnsafeMutablePointer<AVFilterContext>] = []
        for label in sinkLabels {
            var sink: UnsafeMutablePointer<AVFilterContext>? = nil
            ret = avfilter_graph_create_filter(&sink, avfilter_get_by_name(audio ? "abuffersink" : "buffersink"),
                                               label, nil, nil, g)
            guard ret >= 0, let sink else {
                avfilter_graph_free_wrapper(g)
                throw MediaError(stage: "filter", call: "avfilter_graph_create_filter(buffersink)", code: ret)
            }
            made.append(sink)
        }
        sinks = made

        // outputs: the open output pad of our source ("in"); inputs: the open input pads of our sinks.
        var outputs = avfilter_inout_alloc()
        outputs?.pointee.name = av_strdup("in")
        outputs?.pointee.filter_ctx = src
        outputs?.pointee.pad_idx = 0
        outputs?.pointee.next = nil
        var inputs: UnsafeMutablePointer<AVFilterInOut>? = nil
        for (label, sink) in zip(sinkLabels, made).reversed() {
            let node = avfilter_inout_alloc()
            node?.pointee.name = av_strdup(label)
            node?.pointee.filter_ctx = sink
            node?.pointee.pad_idx = 0
            node?.pointee.next = inputs
            inputs = node
        }
        ret = avfilter_graph_parse_ptr(g, description, &inputs, &outputs, nil)
        avfilter_inout_free(&inputs)
        avfilter_inout_free(&outputs)
        if ret < 0 {  // fully initialised: deinit frees the graph
            throw MediaError(stage: "filter", call: "avfilter_graph_parse_ptr(\(description))", code: ret)
        }
        ret = avfilter_graph_config(g, nil)
        if ret < 0 {
            throw MediaError(stage: "filter", call: "avfilter_graph_config(\(description))", code: ret)
        }
    }

    deinit { avfilter_graph_free_wrapper(raw) }

    /// Feeds `frame` (nil = end of stream) into the source.
    func push(_ frame: Frame?) throws(MediaError) {
        let ret = av_buffersrc_add_frame_flags(source, frame?.raw, Int32(AV_BUFFERSRC_FLAG_KEEP_REF))
        try MediaError.check(ret, stage: "filter", "av_buffersrc_add_frame_flags")
    }

    /// Ends the source at `pts` (source time base): the time just after the last frame, so rate-changing
    /// filters (fps, aresample) keep the last frame's full duration.
    func close(at pts: Int64) throws(MediaError) {
        try MediaError.check(av_buffersrc_close(source, pts, UInt32(AV_BUFFERSRC_FLAG_PUSH)), stage: "filter", "av_buffersrc_close")
    }

    /// Pulls one frame from sink `index`.
    func pull(_ index: Int, into frame: Frame) throws(MediaError) -> Received {
        let ret = av_buffersink_get_frame(sinks[index], frame.raw)
        if ret == AVStatus.eagain { return .again }
        if ret == AVStatus.eof { return .endOfStream }
        try MediaError.check(ret, stage: "filter", "av_buffersink_get_frame")
        return .item
    }

    func timeBase(of index: Int) -> Rational { Rational(av_buffersink_get_time_base(sinks[index])) }

    /// Makes audio sink `index` deliver frames of exactly `samples` samples (the encoder's frame size).
    func setFrameSize(_ samples: Int32, of index: Int) { av_buffersink_set_frame_size(sinks[index], UInt32(samples)) }
}

private func avfilter_graph_free_wrapper(_ g: UnsafeMutablePointer<AVFilterGraph>) {
    var p: UnsafeMutablePointer<AVFilterGraph>? = g
    avfilter_graph_free(&p)
}
