import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Watches the decoded requests and the responses of one connection: tells the ``ConnectionGate`` whether the
/// connection is busy (a request in progress, an event stream) or idle, and the ``RequestDeadlineHandler`` when
/// a request has been read. A client that closes its side during an event stream is gone: the connection is
/// closed (the server would otherwise notice only at its next write, and hold the stream's slot until then).
final class RequestActivityHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let gate: ConnectionGate
    private var streaming = false

    init(gate: ConnectionGate) {
        self.gate = gate
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: gate.requests(on: context.channel, +1)
        case .body: break
        case .end: context.triggerUserOutboundEvent(RequestReadEvent(), promise: nil)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case let .head(head): streaming = head.headerFields[.contentType]?.hasPrefix("text/event-stream") == true
        case .body: break
        case .end:
            streaming = false
            gate.requests(on: context.channel, -1)
        }
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if streaming, let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
