import NIOCore

/// The header timeout: a request must arrive whole (its head, and its body on the routes that take one) within
/// `timeout` of its first byte, or the connection is closed. Bytes trickled in one at a time do not extend it
/// (hummingbird's idle timeout only counts whole HTTP parts, so it does not see a head that never ends).
///
/// Sits first in the pipeline, before the HTTP decoder, where the first byte of a request is seen;
/// ``RequestActivityHandler`` (after the decoder) tells it with ``RequestReadEvent`` when the request was read.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let timeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if deadline == nil {
            let loopBound = context.loopBound
            deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
                loopBound.value.close(promise: nil)
            }
        }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is RequestReadEvent else {
            return context.triggerUserOutboundEvent(event, promise: promise)
        }
        // The request was read: the next byte starts the next one.
        deadline?.cancel()
        deadline = nil
        promise?.succeed()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }
}

/// Sent toward the head of the pipeline when the last part of a request (`.end`) was decoded.
struct RequestReadEvent: Sendable {}
