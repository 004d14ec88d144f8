import CAV

/// An owned text subtitle decoder (`avcodec_decode_subtitle2`): mov_text, SubRip, ASS/SSA and WebVTT packets become
/// ASS dialogue events, as libavcodec gives them.
final class SubtitleDecoder {
    /// What one packet held: its events' text (`ReadOrder,Layer,Style,Name,MarginL,MarginR,MarginV,Effect,Text`,
    /// invalid UTF-8 replaced) and when they show, in milliseconds after the packet's time.
    struct Decoded {
        var events: [String]
        var startMilliseconds: Int64
        /// nil when the decoder does not know (the caller then uses the packet's duration).
        var endMilliseconds: Int64?
    }

    private let context: CodecContext

    /// Opens a decoder for `stream`. libavcodec's own UTF-8 check (which drops a whole event) is off: invalid
    /// sequences are replaced instead.
    init(for stream: MediaStream) throws(MediaError) {
        let par = stream.raw.pointee.codecpar!
        guard let codec = avcodec_find_decoder(par.pointee.codec_id) else {
            throw MediaError(stage: "decode", call: "avcodec_find_decoder", code: CAV_AVERROR(ENOSYS),
                             message: "no decoder for codec \(String(cString: avcodec_get_name(par.pointee.codec_id)))")
        }
        context = try CodecContext(codec: codec, stage: "decode")
        try MediaError.check(avcodec_parameters_to_context(context.raw, par), stage: "decode", "avcodec_parameters_to_context")
        context.raw.pointee.pkt_timebase = stream.timeBase.av
        context.raw.pointee.sub_charenc_mode = FF_SUB_CHARENC_MODE_IGNORE
        try context.open()
    }

    /// Decodes one packet.
    /// - Returns: nil when the packet held no subtitle.
    /// - Throws: ``MediaError`` for a packet the decoder refuses (the caller counts it and goes on).
    func decode(_ packet: Packet) throws(MediaError) -> Decoded? {
        var sub = AVSubtitle()
        var got: Int32 = 0
        let ret = avcodec_decode_subtitle2(context.raw, &sub, &got, packet.raw)
        try MediaError.check(ret, stage: "decode", "avcodec_decode_subtitle2(\(context.name))")
        guard got != 0 else { return nil }
        defer { avsubtitle_free(&sub) }
        var events: [String] = []
        for i in 0..<Int(sub.num_rects) {
            guard let rect = sub.rects[i] else { continue }
            if let ass = rect.pointee.ass {
                events.append(String(cString: ass))
            } else if let text = rect.pointee.text {
                events.append(",,,,,,,," + String(cString: text))
            }
        }
        let end = sub.end_display_time
        return Decoded(events: events, startMilliseconds: Int64(sub.start_display_time),
                       endMilliseconds: end > sub.start_display_time && end != UInt32.max ? Int64(end) : nil)
    }
}
