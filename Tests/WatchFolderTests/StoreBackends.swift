import Foundation
import GRDB
import Logging
import Testing
import TestSupport
@testable import WatchFolder

/// The job store backends the store-level suites run on: the embedded SQLite store and PostgreSQL (a throwaway
/// cluster of this test process, one database per test: ``PostgresServer``).
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

/// Runs `body` with a fresh, empty store of `backend` and a temporary folder (for effect paths), both gone after it.
func withStore<T>(_ backend: Backend, _ body: (any JobStore, URL) async throws -> T) async throws -> T {
    try await withTempDir { dir in
        switch backend {
        case .sqlite:
            return try await body(try SQLiteJobStore(url: dir.appendingPathComponent("db.sqlite")), dir)
        case .postgres:
            let store = try await PostgresJobStore(url: try await PostgresServer.shared().makeDatabase(), logger: quietLogger)
            defer { store.close() }
            return try await body(store, dir)
        }
    }
}

/// The types of job `id`'s events, oldest first, read through the protocol (any backend).
func eventTypes(of id: Int64, in store: any JobStore) async throws -> [String] {
    try await store.events(after: 0, limit: 100_000).filter { $0.jobId == id }.map(\.type.rawValue)
}

/// Makes job `id`'s lease end now, as if its node had stopped renewing it `lease_seconds` ago: raw SQL on either
/// backend (nothing in the protocol ends a lease but time).
func expireLease(_ store: any JobStore, _ id: Int64) async throws {
    switch store {
    case let sqlite as SQLiteJobStore:
        try await sqlite.pool.write { db in
            try db.execute(sql: "UPDATE job SET lease_expires_at = ? WHERE id = ?", arguments: [Date(timeIntervalSinceNow: -1), id])
        }
    case let postgres as PostgresJobStore:
        try await postgres.execute(unsafeSQL: "UPDATE job SET lease_expires_at = now() - interval '1 second' WHERE id = \(id)")
    default:
        Issue.record("no way to expire a lease in \(type(of: store))")
    }
}
