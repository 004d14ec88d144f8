import Hummingbird
import NIOCore

/// hummingbird's basic request context plus the request's connection, so that an event stream ends as soon as
/// its client is gone (and frees its `[http] max_event_streams` slot) instead of at its next write.
struct StatusRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The connection the request came on.
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
