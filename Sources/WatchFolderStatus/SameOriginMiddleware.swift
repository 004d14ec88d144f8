import HTTPTypes
import Hummingbird

/// Without `[http] token` (loopback only) the server trusts whoever can reach it; this keeps web pages out of
/// that circle, whatever site an operator's browser has open:
///
/// - **Host** (DNS rebinding): every request must name the server by its listen host (`127.0.0.1`, `::1`) or
///   `localhost`, with any port (an SSH tunnel's local port works). A page on `evil.example` whose name was
///   rebound to 127.0.0.1 sends `Host: evil.example` and is refused.
/// - **Origin** (cross-site requests): a request that changes something (any method but GET and HEAD) must come
///   from the server's own pages: `Origin` equal to `http://` + its `Host`, and `Sec-Fetch-Site`, when sent,
///   `same-origin`. A request with neither header is not a browser's (curl, scripts) and is allowed.
///
/// Refusals are 403 with a one-line JSON error. With a token the token rules apply instead (the session cookie
/// is `SameSite=Strict`; the bearer token is not something another site has).
struct SameOriginMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Lower-cased names the Host header may carry: the listen host and `localhost`.
    let hosts: Set<String>

    init(listenHost: String) {
        hosts = [listenHost.lowercased(), "localhost"]
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let host = request.head.authority, !request.headers.contains(.duplicateHost) else {
            throw APIError(.forbidden, "a request must carry one Host header naming this server (\(names))")
        }
        guard hosts.contains(Self.hostname(of: host)) else {
            throw APIError(.forbidden, "Host \"\(host)\" is not this server: without [http] token it answers to \(names) only")
        }
        guard request.method != .get, request.method != .head else { return try await next(request, context) }
        if let origin = request.headers[.origin], origin.lowercased() != "http://\(host.lowercased())" {
            throw APIError(.forbidden, "cross-site \(request.method.rawValue) refused: Origin \"\(origin)\" is not http://\(host)")
        }
        if let site = request.headers[.secFetchSite], site.lowercased() != "same-origin" {
            throw APIError(.forbidden, "cross-site \(request.method.rawValue) refused: Sec-Fetch-Site is \"\(site)\", not same-origin")
        }
        return try await next(request, context)
    }

    private var names: String { hosts.sorted().joined(separator: " or ") }

    /// The host name of a Host value, without port or IPv6 brackets, lower-cased.
    static func hostname(of authority: String) -> String {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            return authority[authority.index(after: authority.startIndex)..<close].lowercased()
        }
        return authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)[0].lowercased()
    }
}

extension HTTPField.Name {
    static var secFetchSite: Self { .init("Sec-Fetch-Site")! }
    /// The first Host header becomes the request's authority; a second one stays among the fields.
    static var duplicateHost: Self { .init("Host")! }
}
