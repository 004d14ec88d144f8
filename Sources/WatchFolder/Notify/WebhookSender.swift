import Foundation
import Synchronization
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
public final class WebhookSender: Service, Sendable {
    /// One configured endpoint.
    struct Endpoint: Sendable, Equatable {
        var id: Int64
        var url: String
        var secret: String
        var signer: WebhookSigner

        static func == (a: Self, b: Self) -> Bool { a.id == b.id && a.url == b.url && a.secret == b.secret }
    }

    /// The queue of one endpoint: stopped when its endpoint leaves the config or changes.
    final class EndpointQueue: Sendable {
        let endpoint: Endpoint
        let workers = CurlWorkers(count: 1, name: "wf-webhook")
        /// Finishes when this queue's loop has ended.
        let ended: AsyncStream<Never>
        /// The end of the queue this one replaces (same URL): this one sends only after it, so that two queues
        /// never send the same delivery.
        private let predecessorEnded: AsyncStream<Never>?
        private let endedContinuation: AsyncStream<Never>.Continuation
        private let stopped = Atomic<Bool>(false)
        /// Woken by every commit to the store, and by ``stop()``.
        let commits: CommitWaiter

        init(_ endpoint: Endpoint, after predecessor: EndpointQueue?, commits: CommitWaiter) {
            self.endpoint = endpoint
            self.commits = commits
            predecessorEnded = predecessor?.ended
            (ended, endedContinuation) = AsyncStream.makeStream()
        }

        var isStopped: Bool { stopped.load(ordering: .acquiring) }
        /// Ends the queue's loop after its request in flight, if any: that request gets its answer and its
        /// outcome is recorded (at most ``WebhookSender/requestTimeoutSeconds``). Aborting it instead would leave a
        /// delivery the receiver may have got pending, to be sent again when the endpoint comes back.
        func stop() {
            stopped.store(true, ordering: .releasing)
            commits.signal()
        }
        /// Called once by the queue's loop when it has ended.
        func markEnded() {
            commits.cancel()
            endedContinuation.finish()
        }
        /// Returns when the queue this one replaces has ended (or at once without one).
        func waitForPredecessor() async {
            guard let predecessorEnded else { return }
            for await _ in predecessorEnded {}
        }
    }

    /// Seconds a request may take, connection included.
    public static let timeoutSeconds = 10
    public static let userAgent = "watchfolder/\(WatchFolderVersion.string)"

    let webhookQueue: any WebhookDeliveries
    let endpoints: [Endpoint]
    private let updates: AsyncStream<[Endpoint]>
    private let updatesContinuation: AsyncStream<[Endpoint]>.Continuation
    let policy: WebhookRetryPolicy
    let logger: Logger
    /// Seconds a request may take: ``timeoutSeconds`` (tests that hold a request lengthen it).
    let requestTimeoutSeconds: Int

    /// Registers `webhooks` as the active endpoints (see ``WebhookQueue/register(_:now:)``).
    /// Create the sender before anything records events, so that every event gets its deliveries.
    /// - Throws: GRDB errors; ``WebhookSecretError`` for a malformed secret (the config loader rejects those).
    public init(queue webhookQueue: any WebhookDeliveries, webhooks: [Config.Webhook],
                policy: WebhookRetryPolicy = .fromEnvironment(), logger: Logger,
                requestTimeoutSeconds: Int = WebhookSender.timeoutSeconds) async throws {
        endpoints = try await Self.register(webhooks, in: webhookQueue)
        (updates, updatesContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        self.webhookQueue = webhookQueue
        self.policy = policy
        self.logger = logger
        self.requestTimeoutSeconds = requestTimeoutSeconds
    }

    /// Config reload: `webhooks` become the endpoints. New URLs start receiving the events recorded from now on;
    /// removed URLs stop (their pending deliveries wait until they are configured again); a URL whose secret
    /// changed continues its queue with the new secret.
    /// - Throws: GRDB errors; ``WebhookSecretError`` for a malformed secret. Nothing changes then.
    public func reload(_ webhooks: [Config.Webhook]) async throws {
        for hook in webhooks { _ = try WebhookSigner(secret: hook.secret) }
        updatesContinuation.yield(try await Self.register(webhooks, in: webhookQueue))
    }

    private static func register(_ webhooks: [Config.Webhook], in webhookQueue: any WebhookDeliveries) async throws -> [Endpoint] {
        let signers = try webhooks.map { try WebhookSigner(secret: $0.secret) }
        let ids = try await webhookQueue.register(webhooks)
        return zip(webhooks, signers).map { hook, signer in
            Endpoint(id: ids[hook.url] ?? 0, url: hook.url, secret: hook.secret, signer: signer)
        }
    }

    /// Runs one queue per endpoint until graceful shutdown, following ``reload(_:)``.
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            var queues: [String: EndpointQueue] = [:]
            // The last queue made for each URL, running or not: a new queue of that URL starts after it.
            var latest: [String: EndpointQueue] = [:]
            func apply(_ endpoints: [Endpoint]) {
                let wanted = Dictionary(endpoints.map { ($0.url, $0) }) { first, _ in first }
                for (url, queue) in queues where wanted[url] != queue.endpoint {
                    queue.stop()
                    queues[url] = nil
                }
                for (url, endpoint) in wanted where queues[url] == nil {
                    let queue = EndpointQueue(endpoint, after: latest[url], commits: webhookQueue.commitWaiter())
                    queues[url] = queue
                    latest[url] = queue
                    group.addTask { await self.serve(queue) }
                }
            }
            apply(endpoints)
            // Ends at graceful shutdown; a sender without endpoints keeps running until then (a service that
            // returned early would stop the whole group).
            for await endpoints in updates.cancelOnGracefulShutdown() {
                apply(endpoints)
                logger.notice("webhook endpoints reloaded", metadata: ["wf.webhook.count": "\(endpoints.count)"])
            }
            for queue in queues.values { queue.stop() }
        }
    }

    /// The queue of one endpoint, until graceful shutdown or ``EndpointQueue/stop()``.
    private func serve(_ queue: EndpointQueue) async {
        let endpoint = queue.endpoint
        let workers = queue.workers
        var endpointLogger = logger
        endpointLogger[metadataKey: "wf.webhook.url"] = "\(endpoint.url)"
        let logger = endpointLogger
        defer {
            workers.shutdown()
            queue.markEnded()
        }
        await cancelWhenGracefulShutdown { [self] in
            await withTaskCancellationHandler { [self] in
                await queue.waitForPredecessor()
                var failing = false  // the store's errors are said once, and its recovery once
                while !Task.isCancelled && !queue.isStopped {
                    do {
                        // Between deliveries it waits for a commit (a new event's delivery, `webhooks resend` from
                        // the CLI, seen through the daemon's watch of the database) or the head's retry time.
                        let head: WebhookDeliveryInfo
                        let next = try await webhookQueue.next(endpoint: endpoint.id)
                        if failing {
                            failing = false
                            logger.notice("webhook queue readable again")
                        }
                        switch next {
                        case .empty:
                            await queue.commits.wait()
                            continue
                        case let .elsewhere(until):
                            // Another node sends this queue: wait until its hold ends (it died, or stopped sending).
                            let wait = max(0, until.timeIntervalSinceNow)
                            await queue.commits.wait(until: .now + .milliseconds(Int64(wait * 1000) + 1))
                            continue
                        case let .delivery(info):
                            head = info
                        }
                        let wait = head.delivery.nextAt.timeIntervalSinceNow
                        if wait > 0 {
                            await queue.commits.wait(until: .now + .milliseconds(Int64(wait * 1000) + 1))
                            continue
                        }
                        try await attempt(head, endpoint: endpoint, workers: workers, logger: logger)
                    } catch is CancellationError {
                        return
                    } catch let error as CurlError where error.isCancellation {
                        return
                    } catch where queue.isStopped {
                        return
                    } catch {
                        if !failing {
                            failing = true
                            logger.error("webhook queue error: \(error); retrying every second")
                        }
                        try? await Task.sleep(for: .seconds(1))
                    }
                }
            } onCancel: {
                workers.cancel()  // shutdown aborts a request in flight; its delivery stays pending
            }
        }
    }

    /// Sends `info` once and records the outcome.
    private func attempt(_ info: WebhookDeliveryInfo, endpoint: Endpoint, workers: CurlWorkers, logger: Logger) async throws {
        let event = info.event
        let manifest = event.type == .completed ? try await webhookQueue.manifest(job: event.jobId) : nil
        let request = Self.request(for: event, manifest: manifest, url: endpoint.url, signer: endpoint.signer,
                                   timeoutSeconds: requestTimeoutSeconds)
        var logger = logger
        logger[metadataKey: "wf.webhook.id"] = "\(event.uid)"
        logger[metadataKey: "wf.job.id"] = "\(event.jobId)"
        let status: Int?
        let failure: String
        do {
            let response = try await workers.run { easy in try easy.perform(request) }
            if (200..<300).contains(response.status) {
                try await webhookQueue.markDelivered(info.delivery.id, status: response.status)
                WatchFolderMetrics.webhookDelivered(.delivered)
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
        try await webhookQueue.markAttemptFailed(info.delivery.id, status: status, error: failure, next: next, now: now)
        WatchFolderMetrics.webhookDelivered(next == nil ? .failed : .retried)
        if let next {
            logger.warning("webhook attempt \(attempts) failed: \(failure); next at \(WebhookMessage.timestamp(next))")
        } else {
            logger.error("webhook failed after \(attempts) attempts: \(failure)")
        }
    }

    /// The signed POST for `event`, timestamped now.
    static func request(for event: JobEvent, manifest: String?, url: String, signer: WebhookSigner,
                        timeoutSeconds: Int = timeoutSeconds, now: Date = Date()) -> CurlRequest {
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
