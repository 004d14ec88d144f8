public import Foundation

/// The package root, found from this file's path (`Tests/TestSupport/PackagePaths.swift`), so the tests run from
/// anywhere.
public let packageRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The `watchfolder` binary under test: `$WATCHFOLDER_BIN`, else the debug build next to the tests.
public let watchfolderBinary: URL = {
    if let env = ProcessInfo.processInfo.environment["WATCHFOLDER_BIN"], !env.isEmpty {
        return URL(fileURLWithPath: env)
    }
    let candidates = [".build/debug/watchfolder", ".build/x86_64-unknown-linux-gnu/debug/watchfolder"]
    for c in candidates {
        let url = packageRoot.appendingPathComponent(c)
        if FileManager.default.isExecutableFile(atPath: url.path) { return url }
    }
    return packageRoot.appendingPathComponent(candidates[0])
}()
