import HummingbirdCore
import Logging
import NIOCore

/// hummingbird's HTTP/1 child channel behind the status server's guards: the ``ConnectionGate`` (connection
/// cap), the ``RequestDeadlineHandler`` (header timeout) and hummingbird's own idle timeout.
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    let gate: ConnectionGate
    let headerTimeout: TimeAmount

    /// - Parameters:
    ///   - idleTimeout: A connection without a request in progress is closed after this long without one.
    ///   - headerTimeout: A request must be read whole within this long of its first byte.
    init(responder: @escaping HTTPChannelHandler.Responder, gate: ConnectionGate, idleTimeout: TimeAmount, headerTimeout: TimeAmount) {
        base = HTTP1Channel(responder: responder, configuration: .init(
            additionalChannelHandlers: [RequestActivityHandler(gate: gate)], idleTimeout: idleTimeout))
        self.gate = gate
        self.headerTimeout = headerTimeout
    }

    /// Runs for every accepted connection before it is registered: past the cap it evicts an idle connection
    /// or closes this one (then the setup fails, and hummingbird never sees the connection). NIO does not close
    /// a connection whose setup failed, so every failure path closes it here.
    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        switch gate.admit(channel) {
        case .refused:
            channel.close(promise: nil)
            logger.debug("status server: connection refused, \(gate.limit) open ([http] max_connections)")
            return channel.eventLoop.makeFailedFuture(ChannelError.inputClosed)
        case let .admittedEvicting(idle):
            idle.close(promise: nil)
            logger.debug("status server: an idle connection closed for a new one, \(gate.limit) open ([http] max_connections)")
        case .admitted:
            break
        }
        let gate = self.gate
        channel.closeFuture.whenComplete { _ in gate.remove(channel) }
        do {
            try channel.pipeline.syncOperations.addHandler(RequestDeadlineHandler(timeout: headerTimeout), position: .first)
        } catch {
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(error)
        }
        return base.setup(channel: channel, logger: logger).flatMapErrorThrowing { error in
            channel.close(promise: nil)
            throw error
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
