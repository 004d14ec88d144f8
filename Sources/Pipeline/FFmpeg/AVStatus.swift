import CAV

/// The libav status codes the send/receive loops treat as control flow, not errors.
enum AVStatus {
    static let eagain = CAV_AVERROR_EAGAIN()
    static let eof = CAV_AVERROR_EOF()
    static let exit = CAV_AVERROR_EXIT()
    static let invalidData = CAV_AVERROR_INVALIDDATA()
    static let noPTS = CAV_AV_NOPTS_VALUE()
}
