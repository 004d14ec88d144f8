import Foundation
import Hummingbird
import WatchFolder

/// Refuses requests without the token (401 `{"error": ...}` with `WWW-Authenticate: Bearer`), except the
/// open paths: `/api/health`, `/login`, `/logout`, and `GET /` (which shows the login form instead).
/// `/metrics` is open unless `[http] metrics_token`, but a wrong `Authorization` header is still refused.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let auth: StatusAuth

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        switch path {
        case "/api/health", "/login", "/logout", "/", "/favicon.ico":
            return try await next(request, context)
        case "/metrics" where !auth.metricsToken:
            if auth.token != nil, request.headers[.authorization] != nil, !auth.allows(request) {
                throw APIError(.unauthorized, "invalid token", headers: [.wwwAuthenticate: "Bearer"])
            }
            return try await next(request, context)
        default:
            guard auth.allows(request) else {
                let message = request.headers[.authorization] == nil ? "authentication required" : "invalid token"
                throw APIError(.unauthorized, message, headers: [.wwwAuthenticate: "Bearer"])
            }
            return try await next(request, context)
        }
    }
}
