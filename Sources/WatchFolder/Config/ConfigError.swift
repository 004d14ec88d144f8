/// A configuration that cannot be used, located in its file: `config.toml:12: unknown key 'sttle_seconds' in [inbox]`.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The config file as the user named it.
    public var file: String
    /// 1-based line, when the problem has one.
    public var line: Int?
    /// What is wrong and, where it helps, what to write instead.
    public var message: String

    public init(file: String, line: Int? = nil, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}
