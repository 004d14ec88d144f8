import Crypto
import Foundation
import Hummingbird
import WatchFolder

/// The `[http] token` check: `Authorization: Bearer <token>`, or the session cookie set by the dashboard's
/// login form. With no token configured (loopback only) everything is open.
///
/// The cookie holds an HMAC of the token, never the token itself. Comparisons are constant time.
struct StatusAuth: Sendable {
    static let cookieName = "wf_session"
    let token: String?
    /// `[http] metrics_token`: `/metrics` is protected like the API.
    var metricsToken = false

    /// The cookie value that proves a login: HMAC-SHA256(token, "watchfolder-session"), hex.
    var sessionValue: String? {
        guard let token else { return nil }
        let mac = HMAC<SHA256>.authenticationCode(for: Data("watchfolder-session".utf8), using: SymmetricKey(data: Data(token.utf8)))
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    /// True when no token is configured or the request carries it (header or cookie).
    func allows(_ request: Request) -> Bool {
        guard let token else { return true }
        if let bearer = bearer(request) { return Self.constantTimeEqual(bearer, token) }
        if let cookie = request.cookies[Self.cookieName]?.value, let expected = sessionValue {
            return Self.constantTimeEqual(cookie, expected)
        }
        return false
    }

    /// The `Bearer` credential of the request, if any.
    func bearer(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return "" }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }

    /// Compares two secrets in time independent of where they differ (and of their lengths): both are hashed
    /// to 32 bytes, then every byte is compared.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(SHA256.hash(data: Data(a.utf8))), y = Array(SHA256.hash(data: Data(b.utf8)))
        var difference: UInt8 = 0
        for i in 0..<x.count { difference |= x[i] ^ y[i] }
        return difference == 0
    }
}
