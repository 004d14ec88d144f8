import Foundation

/// A build that failed, with the encoder that was in use (a GPU failure is retried on the CPU).
public struct BuildFailure: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var encoder: String?
    public var description: String { message }

    public init(message: String, encoder: String?) {
        self.message = message
        self.encoder = encoder
    }
}
