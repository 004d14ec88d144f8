import Foundation

/// Renders `[outbox] layout`: `{stem}` (file name without extension), `{id}` (job id), `{yyyy}` `{mm}` `{dd}`
/// (the job's arrival date, UTC) and `{dir}` (the source's folder relative to the inbox, empty at the top).
public enum OutboxLayout {
    public static func render(_ layout: String, _ package: PackageInfo) -> String {
        let source = package.sourcePath as NSString
        let stem = (source.lastPathComponent as NSString).deletingPathExtension
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day], from: package.createdAt)
        let values: [String: String] = [
            "stem": stem,
            "id": "\(package.jobID)",
            "yyyy": String(format: "%04d", parts.year ?? 0),
            "mm": String(format: "%02d", parts.month ?? 0),
            "dd": String(format: "%02d", parts.day ?? 0),
            "dir": source.deletingLastPathComponent,
        ]
        var out = layout
        for (token, value) in values { out = out.replacingOccurrences(of: "{\(token)}", with: value) }
        let components = out.split(separator: "/").filter { !$0.isEmpty && $0 != "." && $0 != ".." }
        return components.isEmpty ? "\(stem)-\(package.jobID)" : components.joined(separator: "/")
    }
}
