import Foundation
public import Logging
public import ServiceLifecycle

/// Delivers webhook events: one queue per endpoint, in event order, signed per Standard Webhooks.
///
/// Each endpoint has its own task and its own curl thread, so a slow or failing endpoint never delays another
/// one, nor the transcode pool. Within an endpoint one request is in flight at a time and a pending delivery
/// holds the deliveries behind it (strict order per endpoint) until it is delivered or `failed` at the end of
/// its 24 h retry window. A request gets 10 s; a 2xx answer means delivered; anything else is retried per
/// ``WebhookRetryPolicy``. State lives in the job store, so pending deliveries go out after a restart.
///
/// - Important: Delivery is at least once: a request the receiver got but whose answer was lost (crash,
///   timeout) is sent again with the same `webhook-id`. Receivers deduplicate on it.
public struct WebhookSender: Service {
    /// One configured endpoint.
    struct Endpoint: Sendable {
        var id: Int64
        var url: String
        var signer: WebhookSigner
    }

    /// Seconds a request may take, connection included.
    public static let timeoutSeconds = 10
    public static let userAgent = "watchfolder/\(WatchFolderVersion.string)"

    let outbox: WebhookOutbox
    let endpoints: [Endpoint]
    let policy: WebhookRetryPolicy
    let logger: Logger
    /// How often an idle endpoint looks for new deliveries (also picks up `webhooks resend` from the CLI).
    let pollInterval: Duration

    /// Registers `webhooks` as the active endpoints (see ``WebhookOutbox/register(_:now:)``).
    /// Create the sender before anything records events, so that every event gets its deliveries.
    /// - Throws: GRDB errors; ``WebhookSecretError`` for a malformed secret (the config loader rejects those).
    public init(outbox: WebhookOutbox, webhooks: [Config.Webhook], policy: WebhookRetryPolicy = .fromEnvironment(),
                logger: Logger, pollInterval: Duration = .milliseconds(250)) throws {
        let ids = try outbox.register(webhooks)
        endpoints = try webhooks.map { hook in
            Endpoint(id: ids[hook.url] ?? 0, url: hook.url, signer: try WebhookSigner(secret: hook.secret))
        }
        self.outbox = outbox
        self.policy = policy
        self.logger = logger
        self.pollInterval = pollInterval
    }

    public func run() async throws {
        guard !endpoints.isEmpty else {
            // Nothing to send; a service that returned early would stop the whole group.
            try? await gracefulShutdown()
            return
        }
        await withDiscardingTaskGroup { group in
            for endpoint in endpoints {
                group.addTask { await self.serve(endpoint) }
            }
        }
    }

    /// The queue of one endpoint, until graceful shutdown.
    private func serve(_ endpoint: Endpoint) async {
        var endpointLogger = logger
        endpointLogger[metadataKey: "wf.webhook.url"] = "\(endpoint.url)"
        let logger = endpointLogger
        let workers = CurlWorkers(count: 1, name: "wf-webhook")
        defer { workers.shutdown() }
        await cancelWhenGracefulShutdown {
            await withTaskCancellationHandler {
                while !Task.isCancelled {
                    do {
                        guard let head = try await outbox.head(endpoint: endpoint.id) else {
                            try await Task.sleep(for: pollInterval)
                            continue
                        }
                        let wait = head.delivery.nextAt.timeIntervalSinceNow
                        if wait > 0 {
                            try await Task.sleep(for: min(pollInterval, .milliseconds(Int64(wait * 1000) + 1)))
                            continue
                        }
                        try await attempt(head, endpoint: endpoint, workers: workers, logger: logger)
                    } catch is CancellationError {
                        return
                    } catch let error as CurlError where error.isCancellation {
                        return
                    } catch {
                        logger.error("webhook queue error: \(error)")
                        try? await Task.sleep(for: .seconds(1))
                    }
                }
            } onCancel: {
                workers.cancel()  // aborts a request in flight; its delivery stays pending
            }
        }
    }

    /// Sends `info` once and records the outcome.
    private func attempt(_ info: WebhookDeliveryInfo, endpoint: Endpoint, workers: CurlWorkers, logger: Logger) async throws {
        let event = info.event
        let manifest = event.type == .completed ? try await outbox.manifest(job: event.jobId) : nil
        let request = Self.request(for: event, manifest: manifest, url: endpoint.url, signer: endpoint.signer)
        var logger = logger
        logger[metadataKey: "wf.webhook.id"] = "\(event.uid)"
        logger[metadataKey: "wf.job.id"] = "\(event.jobId)"
        let status: Int?
        let failure: String
        do {
            let response = try await workers.run { easy in try easy.perform(request) }
            if (200..<300).contains(response.status) {
                try await outbox.markDelivered(info.delivery.id, status: response.status)
                logger.info("webhook delivered", metadata: ["wf.webhook.type": "\(event.type.rawValue)",
                                                            "wf.webhook.status": "\(response.status)"])
                return
            }
            status = response.status
            failure = "HTTP \(response.status)"
        } catch let error as CurlError where error.isCancellation {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            status = nil
            failure = "\(error)"
        }
        let attempts = info.delivery.attempts + 1
        let now = Date()
        let next = policy.nextAttempt(afterAttempts: attempts, now: now, windowStart: info.delivery.windowStartedAt)
        try await outbox.markAttemptFailed(info.delivery.id, status: status, error: failure, next: next, now: now)
        if let next {
            logger.warning("webhook attempt \(attempts) failed: \(failure); next at \(WebhookMessage.timestamp(next))")
        } else {
            logger.error("webhook failed after \(attempts) attempts: \(failure)")
        }
    }

    /// The signed POST for `event`, timestamped now.
    static func request(for event: JobEvent, manifest: String?, url: String, signer: WebhookSigner,
                        now: Date = Date()) -> CurlRequest {
        let body = WebhookMessage.body(for: event, manifest: manifest)
        let timestamp = Int64(now.timeIntervalSince1970)
        var headers = signer.headers(id: event.uid, timestamp: timestamp, body: body).map { "\($0.0): \($0.1)" }
        headers.append("user-agent: \(userAgent)")
        headers.append("Expect:")  // no 100-continue round trip
        return CurlRequest(method: "POST", url: url, headers: headers, body: .bytes([UInt8](body)),
                           stallSeconds: timeoutSeconds, connectTimeoutSeconds: timeoutSeconds,
                           timeoutSeconds: timeoutSeconds, maxResponseBytes: 64 << 10)
    }
}
