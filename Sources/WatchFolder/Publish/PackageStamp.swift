import Foundation
import Pipeline

/// The owner of a package: `job_id` in its `manifest.json`. A package folder (or bucket prefix) is a job's own,
/// "already published" package only when its manifest names that job; anything else under a name is another's.
enum PackageStamp {
    static let manifestName = "manifest.json"

    /// Writes `job_id` into the manifest of the package folder `package` (made from `manifestJSON` when the builder
    /// wrote none) and returns the stamped manifest, compact, for the store and webhooks.
    /// - Important: Blocks (file I/O): run it off the cooperative pool.
    static func stamp(_ package: URL, jobID: Int64, manifestJSON: String?) throws -> String {
        let file = package.appendingPathComponent(manifestName)
        let written = (try? Data(contentsOf: file)) ?? manifestJSON.map { Data($0.utf8) } ?? Data("{}".utf8)
        let pretty: Data, compact: Data
        if var manifest = try? JSONDecoder().decode(PackageManifest.self, from: written) {
            manifest.jobID = jobID
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            pretty = try encoder.encode(manifest)
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            compact = try encoder.encode(manifest)
        } else {
            // Not the engine's manifest (another builder): keep whatever it holds, add the owner.
            var object = (try? JSONSerialization.jsonObject(with: written) as? [String: Any]) ?? [:]
            object["job_id"] = jobID
            pretty = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            compact = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        }
        try pretty.write(to: file, options: .atomic)
        return String(decoding: compact, as: UTF8.self)
    }

    /// The `job_id` a manifest names, if any.
    static func jobID(in manifest: Data) -> Int64? {
        guard let object = try? JSONSerialization.jsonObject(with: manifest) as? [String: Any] else { return nil }
        if let id = object["job_id"] as? Int { return Int64(id) }
        return (object["job_id"] as? NSNumber)?.int64Value
    }

    /// The job that owns the package folder at `folder`, or nil (no folder, no manifest, or a manifest naming no job).
    /// - Important: Blocks (file I/O): run it off the cooperative pool.
    static func owner(of folder: URL) -> Int64? {
        (try? Data(contentsOf: folder.appendingPathComponent(manifestName))).flatMap(jobID(in:))
    }
}
