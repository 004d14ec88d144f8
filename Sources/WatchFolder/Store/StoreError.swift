import Foundation

/// Errors of the job store, with the job they concern.
public struct StoreError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: Sendable, Equatable { case noSuchJob, invalidTransition, leaseLost, newerSchema }
    public var code: Code
    public var message: String
    public var description: String { message }

    static func noSuchJob(_ id: Int64) -> StoreError { StoreError(code: .noSuchJob, message: "no job \(id)") }
    static func leaseLost(_ job: Job) -> StoreError {
        StoreError(code: .leaseLost, message: "job \(job.id ?? 0): this node's lease on it has moved (now \(job.node ?? "no node")'s, \(job.state.rawValue)); nothing was written")
    }
    static func invalid(_ job: Job, _ what: String) -> StoreError {
        StoreError(code: .invalidTransition, message: "job \(job.id ?? 0) is \(job.state.rawValue): cannot \(what)")
    }
}
