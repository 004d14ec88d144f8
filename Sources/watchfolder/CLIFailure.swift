import ArgumentParser
import Foundation
import WatchFolder

struct CLIFailure: Error {
    static let work: Int32 = 1
    static let usage: Int32 = 2
    var code: Int32
    var message: String

    static func work(_ message: String) -> CLIFailure { CLIFailure(code: work, message: message) }
    static func usage(_ message: String) -> CLIFailure { CLIFailure(code: usage, message: message) }
}
