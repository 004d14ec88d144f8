import Foundation
import PostgresNIO

/// Where a ``PostgresJobStore`` lives, parsed from `postgresql://USER[:PASS]@HOST[:PORT]/DB[?sslmode=MODE]`
/// (`postgres://` too). `sslmode` is libpq's: `disable`, `prefer` (the default), `require` (both without certificate
/// checks, as libpq), or `verify-full`.
struct PostgresLocation: Sendable, Equatable {
    enum TLSMode: String, Sendable { case disable, prefer, require, verifyFull = "verify-full" }

    var user: String
    var password: String?
    var host: String
    var port: Int
    var database: String
    var tls: TLSMode
    /// How long the server lets a session of this store sit idle inside a transaction before it ends it; nil: the
    /// server's setting (by default, forever).
    var idleInTransactionTimeout: Duration?

    /// The URL without its password, for messages and logs.
    var redacted: String { "postgresql://\(user)@\(host):\(port)/\(database)" }

    /// Parses `url`; `password` is used when the URL has none.
    /// - Throws: ``PostgresStoreError`` naming what is wrong with the URL (never its password).
    init(url: String, password: String? = nil) throws {
        func bad(_ what: String) -> PostgresStoreError {
            PostgresStoreError("the job store URL \(Self.redact(url)): \(what) (postgresql://USER[:PASS]@HOST:PORT/DB?sslmode=disable|prefer|require)")
        }
        guard let parts = URLComponents(string: url) else { throw bad("not a URL") }
        guard parts.scheme == "postgresql" || parts.scheme == "postgres" else { throw bad("the scheme is not postgresql://") }
        guard let host = parts.host, !host.isEmpty else { throw bad("no host") }
        guard let user = parts.user?.removingPercentEncoding, !user.isEmpty else { throw bad("no user") }
        let database = String(parts.path.drop(while: { $0 == "/" })).removingPercentEncoding ?? ""
        guard !database.isEmpty, !database.contains("/") else { throw bad("no database name after the host") }
        var tls = TLSMode.prefer
        for item in parts.queryItems ?? [] {
            guard item.name == "sslmode" else { throw bad("unknown parameter \(item.name)") }
            guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                throw bad("sslmode \(item.value ?? "") is not disable, prefer, require or verify-full")
            }
            tls = mode
        }
        self.user = user
        self.password = parts.password?.removingPercentEncoding ?? password
        self.host = host
        self.port = parts.port ?? 5432
        self.database = database
        self.tls = tls
    }

    /// `url` with any password replaced by `***`.
    static func redact(_ url: String) -> String {
        guard var parts = URLComponents(string: url), parts.password != nil else { return url }
        parts.password = "***"
        return parts.string ?? url
    }

    /// The client configuration of postgres-nio for this location.
    var configuration: PostgresClient.Configuration {
        var noChecks = TLSConfiguration.makeClientConfiguration()
        noChecks.certificateVerification = .none
        let tls: PostgresClient.Configuration.TLS = switch self.tls {
        case .disable: .disable
        case .prefer: .prefer(noChecks)
        case .require: .require(noChecks)
        case .verifyFull: .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(host: host, port: port, username: user, password: password,
                                                         database: database, tls: tls)
        configuration.options.maximumConnections = 8
        if let timeout = idleInTransactionTimeout {
            configuration.options.additionalStartupParameters = [
                ("idle_in_transaction_session_timeout", "\(Int64(timeout.components.seconds * 1000))ms"),
            ]
        }
        return configuration
    }
}

/// An error of the PostgreSQL job store that is not one of ``StoreError``'s: the server or the network, in one line
/// that says what was being done and where.
public struct PostgresStoreError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public var description: String { message }
    init(_ message: String) { self.message = message }
}
