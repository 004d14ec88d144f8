import Foundation
import Hummingbird
import Logging
import Pipeline
import WatchFolder

/// The routes of the status server (documented in `docs/api.md`).
struct StatusRoutes: Sendable {
    let store: any JobStore
    /// Webhook deliveries waiting (`watchfolder_webhook_pending`), from Notify's queue beside the store.
    let webhookBacklog: @Sendable () async throws -> Int
    let settings: SchedulerSettings
    let auth: StatusAuth
    let events: EventStream
    /// `[http] listen`'s host: without a token, requests must name it (or `localhost`) in `Host`.
    let listenHost: String
    let logger: Logger
    let gauges = JobGauges()

    typealias Handler = @Sendable (Request, StatusRequestContext) async throws -> Response
    static let methods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete]

    func build() -> Router<StatusRequestContext> {
        let router = Router(context: StatusRequestContext.self)
        router.add(middleware: JSONErrorMiddleware())
        if auth.token == nil { router.add(middleware: SameOriginMiddleware(listenHost: listenHost)) }
        router.add(middleware: AuthMiddleware(auth: auth))
        route(router, "/api/health", [.get: health])
        route(router, "/metrics", [.get: metrics])
        route(router, "/api/dashboard", [.get: dashboardData])
        route(router, "/api/jobs", [.get: list])
        route(router, "/api/nodes", [.get: nodes])
        route(router, "/api/jobs/:id", [.get: detail])
        route(router, "/api/jobs/:id/retry", [.post: retry])
        route(router, "/api/jobs/:id/cancel", [.post: cancel])
        route(router, "/api/jobs/:id/poster", [.get: poster])
        route(router, "/api/jobs/:id/thumbnails/:n", [.get: thumbnail])
        route(router, "/api/jobs/:id/storyboard/:file", [.get: storyboard])
        route(router, "/api/events", [.get: eventStream])
        route(router, "/", [.get: dashboard])
        route(router, "/login", [.post: login])
        route(router, "/logout", [.post: logout])
        return router
    }

    /// Registers `handlers` on `path`, and 405 (with `Allow`) for the other methods.
    private func route(_ router: Router<StatusRequestContext>, _ path: String, _ handlers: [HTTPRequest.Method: Handler]) {
        let allow = handlers.keys.map(\.rawValue).sorted().joined(separator: ", ")
        for method in Self.methods {
            if let handler = handlers[method] {
                router.on(RouterPath(path), method: method, use: handler)
            } else {
                router.on(RouterPath(path), method: method) { request, _ -> Response in
                    throw APIError(.methodNotAllowed, "\(request.method.rawValue) is not allowed on \(request.uri.path); use \(allow)",
                                   headers: [.allow: allow])
                }
            }
        }
    }

    // MARK: Handlers

    /// How long `/api/health` waits for the job store before it answers 503.
    static let healthStoreTimeout = Duration.seconds(3)

    /// 503 while the job store does not answer (a cluster's PostgreSQL restarting, unreachable): a load balancer or a
    /// monitor then knows this node cannot take work; the daemon reconnects by itself.
    @Sendable func health(_ request: Request, _ context: StatusRequestContext) async throws -> Response {
        let store = store
        let summary: JobSummary
        do {
            guard let read = try await withDeadline(Self.healthStoreTimeout, { try await store.summary() }) else {
                throw APIError(.serviceUnavailable, "the job store did not answer within \(Self.healthStoreTimeout)")
            }
            summary = read
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.serviceUnavailable, "the job store does not answer: \(error)")
        }
        let jobs = Dictionary(uniqueKeysWithValues: summary.counts.map { ($0.key.rawValue, $0.value) })
        return JSON.response(Health(version: WatchFolderVersion.string, jobs: jobs, queueDepth: summary.due,
                                    lastEventID: summary.lastEventID))
    }

    @Sendable func metrics(_ request: Request, _ context: StatusRequestContext) async throws -> Response {
        let summary = try await store.summary()
        WatchFolderMetrics.webhooksPending(try await webhookBacklog())
        let text = gauges.render(counts: summary.counts, due: summary.due, statementsExecuted: store.statementsExecuted)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    @Sendable func list(_ request: Request, _ context: StatusRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        var state: Job.State?
        if let raw = query["state"], !raw.isEmpty {
            guard let parsed = Job.State(rawValue: String(raw)) else {
                throw APIError.badRequest("state must be one of \(Job.State.allCases.map(\.rawValue).joined(separator: ", ")), not \"\(raw)\"")
            }
            state = parsed
        }
        var limit = 50
        if let raw = query["limit"], !raw.isEmpty {
            guard let parsed = Int(raw), (1...500).contains(parsed) else { throw APIError.badRequest("limit must be 1...500, not \"\(raw)\"") }
            limit = parsed
        }
        var cursor: Int64?
        if let raw = query["cursor"], !raw.isEmpty {
            guard let parsed = Int64(raw), parsed > 0 else { throw APIError.badRequest("cursor must be a next_cursor value, not \"\(raw)\"") }
            cursor = parsed
        }
        let jobs = try await store.list(state: state, limit: limit + 1, before: cursor)
        let shown = Array(jobs.prefix(limit))
        let next = jobs.count > limit ? shown.last?.id.map(String.init) : nil
        return JSON.response(JobPage(jobs: shown.map(JobResource.init), nextCursor: next))
    }

    /// Every node of this job store (`watchfolder nodes --json`): name, heartbeat, running job ids, encoder, version,
    /// up or gone.
    @Sendable func nodes(_ request: Request, _ context: StatusRequestContext) async throws -> Response {
        JSON.response(try await store.nodes(now: Date()))  // the array `watchfolder nodes --json` prints
    }

    /// The dashboard's sections, each its own bounded query: running (all, with progress), next in run order
    /// then how many more, and the latest completed and failed.
    @Sendable func dashboardData(_ request: Request, _ context: StatusRequestContext) async throws -> Response {
        let counts = try await store.counts()
        let next = try await store.nextQueued(limit: DashboardView.nextLimit)
        return JSON.response(DashboardView(
            running: try await store.running(limit: DashboardView.runningLimit).map(JobResource.init),
            next: next.map(JobResource.init),
            moreQueued: max(0, (counts[.queued] ?? 0) - next.count),
            completed: try await store.recentlyFinished([.completed], limit: DashboardView.recentLimit).map(JobResource.init),
            failed: try await store.recentlyFinished([.failed, .cancelled], limit: DashboardView.recentLimit).map(JobResource.init),
            nodes: try await store.nodes(now: Date())))
    }

    @Sendable func detail(_ request: Request, _ context: StatusRequestContext) async throws -> Response {
        JSON.response(JobResource(try await job(context)))
    }

    @Sendable func retry(_ request: Request, _ context: StatusRequestContext) async throws -> Response {
        let id = try await job(context).id ?? 0
        let outcome = try await transition { try await JobRetry.run(id, store: store, settings: settings, logger: logger) }
        logger.info("job requeued from the status API: \(outcome.message)", metadata: ["wf.job.id": "\(id)"])
        return JSON.response(RetryResponse(job: JobResource(try await store.job(id) ?? outcome.job),
                                           restoredAs: outcome.restoredAs))
    }

    @Sendable func cancel(_ request: Request, _ context: StatusRequestContext) async throws -> Response {
        let id = try await job(context).id ?? 0
        let updated = try await transition { try await store.requestCancel(id) }
        logger.info("job cancel requested from the status API", metadata: ["wf.job.id": "\(id)"])
        // A queued job is cancelled at once; a running one is stopped by the scheduler shortly.
        return JSON.response(JobResource(updated), status: updated.state == .cancelled ? .ok : .accepted)
    }

    @Sendable func poster(_ request: Request, _ context: StatusRequestContext) async throws -> Response {
        let job = try await job(context)
        guard let poster = try PackageFiles.manifest(job).poster else { throw APIError.notFound("job \(job.id ?? 0) has no poster") }
        return try await PackageFiles.response(job: job, relative: poster)
    }

    @Sendable func thumbnail(_ request: Request, _ context: StatusRequestContext) async throws -> Response {
        let job = try await job(context)
        let thumbnails = try PackageFiles.manifest(job).thumbnails ?? []
        let raw = context.parameters.get("n") ?? ""
        guard let n = Int(raw), n >= 1, n <= thumbnails.count else {
            throw APIError.notFound("job \(job.id ?? 0) has \(thumbnails.count) thumbnails (1...\(thumbnails.count)), not \"\(raw)\"")
        }
        return try await PackageFiles.response(job: job, relative: thumbnails[n - 1])
    }

    /// The storyboard's WebVTT or one of its sheets, by the name the manifest gives it (``StoryboardFiles``).
    @Sendable func storyboard(_ request: Request, _ context: StatusRequestContext) async throws -> Response {
        let job = try await job(context)
        let file = context.parameters.get("file") ?? ""
        guard let relative = StoryboardFiles.relativePath(of: file, in: try PackageFiles.manifest(job).storyboard) else {
            throw APIError.notFound("the storyboard of job \(job.id ?? 0) has no file \"\(file)\"")
        }
        return try await PackageFiles.response(job: job, relative: relative)
    }

    @Sendable func eventStream(_ request: Request, _ context: StatusRequestContext) async throws -> Response {
        var last: Int64?
        if let raw = request.headers[.init("Last-Event-ID")!] ?? request.uri.queryParameters["last_event_id"].map(String.init) {
            guard let parsed = Int64(raw.trimmingCharacters(in: .whitespaces)), parsed >= 0 else {
                throw APIError.badRequest("Last-Event-ID must be an event id, not \"\(raw)\"")
            }
            last = parsed
        }
        return try await events.response(lastEventID: last, connection: context.channel)
    }

    @Sendable func dashboard(_ request: Request, _ context: StatusRequestContext) async throws -> Response {
        guard auth.allows(request) else { return DashboardPage.login(error: nil, status: .unauthorized) }
        return DashboardPage.dashboard(loginEnabled: auth.token != nil)
    }

    @Sendable func login(_ request: Request, _ context: StatusRequestContext) async throws -> Response {
        guard let expected = auth.sessionValue else { return Response(status: .seeOther, headers: [.location: "/"]) }
        var request = request
        let body = try await request.collectBody(upTo: 8192)
        let form = Self.formFields(String(buffer: body))
        guard let token = form["token"], StatusAuth.constantTimeEqual(token, auth.token ?? "") else {
            return DashboardPage.login(error: "That token is not right.", status: .unauthorized)
        }
        var response = Response(status: .seeOther, headers: [.location: "/"])
        response.setCookie(Cookie(name: StatusAuth.cookieName, value: expected, path: "/", httpOnly: true, sameSite: .strict))
        return response
    }

    @Sendable func logout(_ request: Request, _ context: StatusRequestContext) async throws -> Response {
        var response = Response(status: .seeOther, headers: [.location: "/"])
        response.setCookie(Cookie(name: StatusAuth.cookieName, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict))
        return response
    }

    // MARK: Helpers

    /// The job named by the `id` path parameter. - Throws: 404 for a malformed or unknown id.
    private func job(_ context: StatusRequestContext) async throws -> Job {
        let raw = context.parameters.get("id") ?? ""
        guard let id = Int64(raw), id > 0, let job = try await store.job(id) else { throw APIError.notFound("no job \(raw)") }
        return job
    }

    /// Maps store errors: unknown job 404, a transition the state does not allow 409.
    private func transition<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as StoreError {
            throw APIError(error.code == .noSuchJob ? .notFound : .conflict, error.message)
        }
    }

    /// `application/x-www-form-urlencoded` fields.
    static func formFields(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            if let key = parts.first { fields[key] = parts.count > 1 ? parts[1] : "" }
        }
        return fields
    }
}
