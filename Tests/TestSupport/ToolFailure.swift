/// A tool, peer or server the tests need is missing, did not start or failed; the description says which and why.
public struct ToolFailure: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) {
        self.description = description
    }
}
