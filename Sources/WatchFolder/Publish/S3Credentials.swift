import Foundation

/// The keys requests are signed with.
public struct S3Credentials: Sendable, Hashable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// Where they came from: `config`, `environment` or `~/.aws/credentials [profile]` (for logs; never the keys).
    public var source: String

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, source: String = "config") {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.source = source
    }

    /// Resolves the credentials: the `[s3]` config keys, else `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
    /// `AWS_SESSION_TOKEN`, else the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, default
    /// `~/.aws/credentials`) in the profile `AWS_PROFILE` (default `default`).
    /// - Throws: ``S3Error`` (code `credentials`) when none of them has both keys.
    public static func resolve(config: Config.S3, environment: [String: String]) throws(S3Error) -> S3Credentials {
        if let key = nonEmpty(config.accessKeyID), let secret = nonEmpty(config.secretAccessKey) {
            return S3Credentials(accessKeyID: key, secretAccessKey: secret, sessionToken: nonEmpty(config.sessionToken),
                                 source: "config")
        }
        if let key = nonEmpty(environment["AWS_ACCESS_KEY_ID"]), let secret = nonEmpty(environment["AWS_SECRET_ACCESS_KEY"]) {
            return S3Credentials(accessKeyID: key, secretAccessKey: secret,
                                 sessionToken: nonEmpty(environment["AWS_SESSION_TOKEN"]), source: "environment")
        }
        let home = nonEmpty(environment["HOME"]) ?? NSHomeDirectory()
        let file = nonEmpty(environment["AWS_SHARED_CREDENTIALS_FILE"]) ?? "\(home)/.aws/credentials"
        let profile = nonEmpty(environment["AWS_PROFILE"]) ?? "default"
        if let text = try? String(contentsOfFile: file, encoding: .utf8) {
            let values = parseProfile(text, profile: profile)
            if let key = nonEmpty(values["aws_access_key_id"]), let secret = nonEmpty(values["aws_secret_access_key"]) {
                return S3Credentials(accessKeyID: key, secretAccessKey: secret,
                                     sessionToken: nonEmpty(values["aws_session_token"]),
                                     source: "\(file) [\(profile)]")
            }
        }
        throw S3Error(.credentials, message: """
            no S3 credentials: set access_key_id and secret_access_key in [s3], or AWS_ACCESS_KEY_ID and \
            AWS_SECRET_ACCESS_KEY, or a [\(profile)] profile in \(file)
            """)
    }

    /// The `key = value` pairs of `[profile]` in an INI-style credentials file (`#` and `;` comments).
    static func parseProfile(_ text: String, profile: String) -> [String: String] {
        var current: String?
        var values: [String: String] = [:]
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                current = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                continue
            }
            guard current == profile, let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            values[key] = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        }
        return values
    }

    private static func nonEmpty(_ s: String?) -> String? {
        guard let s, !s.isEmpty else { return nil }
        return s
    }
}
