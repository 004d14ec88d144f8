import Foundation

/// Why the status server cannot start.
public struct StatusServerError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
