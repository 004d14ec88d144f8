import Foundation
import TestSupport
import Testing

/// Runs `tool` (found on PATH; `make test` installs every tool the tests use) to completion, capturing output.
/// The process is killed after `timeout` seconds and the test fails.
@discardableResult
func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:],
         timeout: TimeInterval = 300) throws -> ProcessResult {
    let result = try runToCompletion(try installedTool(tool), arguments, environment: environment, timeout: timeout)
    if result.timedOut { Issue.record("\(tool) \(arguments.joined(separator: " ")) timed out after \(timeout)s") }
    return result
}

/// Runs `tool` and throws with its output unless it exits 0.
@discardableResult
func runChecked(_ tool: String, _ arguments: [String], environment: [String: String] = [:],
                timeout: TimeInterval = 300) throws -> ProcessResult {
    let result = try run(tool, arguments, environment: environment, timeout: timeout)
    guard result.status == 0 else {
        throw ToolFailure(description: "\(tool) \(arguments.joined(separator: " ")) exited \(result.status): \(result.output)")
    }
    return result
}

/// The version in `Sources/WatchFolder/Version.swift`, the one place it is written.
func sourceVersion() throws -> String {
    let text = try String(contentsOf: packageRoot.appendingPathComponent("Sources/WatchFolder/Version.swift"),
                          encoding: .utf8)
    guard let match = text.firstMatch(of: /static let string = "([^"]+)"/) else {
        throw ToolFailure(description: "no version in Version.swift")
    }
    return String(match.1)
}

/// The .deb `make deb` built: `$WATCHFOLDER_DEB`, else `watchfolder_<version>_amd64.deb` in the package root.
func builtDeb() throws -> URL {
    try DebBuild.shared.deb()
}

final class DebBuild: @unchecked Sendable {
    static let shared = DebBuild()
    private let lock = NSLock()
    private var result: Result<URL, any Error>?

    func deb() throws -> URL {
        lock.lock()
        defer { lock.unlock() }
        if let result { return try result.get() }
        let r = Result { try locate() }
        result = r
        return try r.get()
    }

    private func locate() throws -> URL {
        if let env = ProcessInfo.processInfo.environment["WATCHFOLDER_DEB"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        let deb = packageRoot.appendingPathComponent("watchfolder_\(try sourceVersion())_amd64.deb")
        // Not built from here: `swift test` holds the build folder's lock that `swift build -c release` needs.
        guard FileManager.default.fileExists(atPath: deb.path) else {
            throw ToolFailure(description: "\(deb.lastPathComponent) is missing: run `make deb` (`make test` does)")
        }
        return deb
    }
}

/// A file's mode (permission and setgid bits), owner and group names.
struct FileInfo: Equatable, CustomStringConvertible {
    var mode: Int
    var owner: String
    var group: String
    var description: String { "\(String(mode, radix: 8)) \(owner):\(group)" }

    init(mode: Int, owner: String, group: String) {
        self.mode = mode
        self.owner = owner
        self.group = group
    }

    init?(path: String) {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        mode = Int(st.st_mode) & 0o7777
        owner = attributes[.ownerAccountName] as? String ?? "\(st.st_uid)"
        group = attributes[.groupOwnerAccountName] as? String ?? "\(st.st_gid)"
    }
}
