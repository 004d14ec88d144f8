import Foundation
import Pipeline

/// The owner of a package: `job_id` in its `manifest.json`. A package folder (or bucket prefix) is a job's own,
/// "already published" package only when its manifest names that job; anything else under a name is another's.
enum PackageStamp {
    static let manifestName = "manifest.json"

    /// Writes `job_id` into the manifest of the package folder `package` (made from `manifestJSON` when the builder
    /// wrote none) and returns the stamped manifest, compact, for the store and webhooks.
    /// - Important: Blocks (file I/O): run it off the cooperative pool.
    ///   `metadata` (the job's `STEM.json`, an object) and `sidecars` (name, kind, format, language, bytes) are added
    ///   when the job has them.
    static func stamp(_ package: URL, jobID: Int64, manifestJSON: String?, metadata: String? = nil,
                      sidecars: [Sidecar] = []) throws -> String {
        let file = package.appendingPathComponent(manifestName)
        let written = (try? Data(contentsOf: file)) ?? manifestJSON.map { Data($0.utf8) } ?? Data("{}".utf8)
        var stamped: any Encodable
        if var manifest = try? JSONDecoder().decode(PackageManifest.self, from: written) {
            manifest.jobID = jobID
            stamped = manifest
        } else {
            // Not the engine's manifest (another builder): keep whatever it holds, add the owner.
            var object: [String: JSONValue] = [:]
            if case let .object(held)? = try? JSONDecoder().decode(JSONValue.self, from: written) { object = held }
            object["job_id"] = .integer(jobID)
            stamped = object
        }
        let encoder = JSONEncoder()
        if metadata != nil || !sidecars.isEmpty,
           case var .object(object) = try JSONDecoder().decode(JSONValue.self, from: encoder.encode(stamped)) {
            if let metadata { object["metadata"] = try JSONDecoder().decode(JSONValue.self, from: Data(metadata.utf8)) }
            if !sidecars.isEmpty {
                object["sidecars"] = .array(sidecars.map { s in
                    .object(["name": .string(s.name), "kind": .string(s.kind), "format": .string(s.format),
                             "language": s.language.map(JSONValue.string) ?? .null, "bytes": .integer(s.bytes)])
                })
            }
            stamped = object
        }
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let pretty = try encoder.encode(stamped)
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let compact = try encoder.encode(stamped)
        try pretty.write(to: file, options: .atomic)
        return String(decoding: compact, as: UTF8.self)
    }

    /// The `job_id` a manifest names, if any.
    static func jobID(in manifest: Data) -> Int64? {
        ManifestView(data: manifest)?.jobID
    }

    /// The job that owns the package folder at `folder`, or nil (no folder, no manifest, or a manifest naming no job).
    /// - Important: Blocks (file I/O): run it off the cooperative pool.
    static func owner(of folder: URL) -> Int64? {
        (try? Data(contentsOf: folder.appendingPathComponent(manifestName))).flatMap(jobID(in:))
    }
}
