import TestSupport

extension MotoPeer {
    /// The daemon tests' own moto_server, not the one the unit tests (same test process) share: the requests these
    /// tests hold (``MotoPeer/delay(_:match:count:seconds:)`` on "/master.m3u8", "partNumber=3&") are any bucket's.
    static let daemonTests = Task<MotoPeer, any Error> { try await MotoPeer() }
}
