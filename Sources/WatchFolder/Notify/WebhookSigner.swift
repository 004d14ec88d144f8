import Crypto
public import Foundation

/// Signs webhook requests per the Standard Webhooks specification (https://www.standardwebhooks.com).
///
/// `webhook-signature: v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`, keyed by the
/// base64-decoded part of a `whsec_...` secret. Receivers verify with the public `standardwebhooks` libraries.
public struct WebhookSigner: Sendable {
    /// The decoded secret (kept as bytes: `SymmetricKey` is not `Sendable`).
    private let keyBytes: Data

    /// - Throws: ``WebhookSecretError`` when `secret` is not `whsec_` + base64 of at least 16 bytes (the
    ///   config's rule, ``Config/Webhook/key(ofSecret:)``).
    public init(secret: String) throws(WebhookSecretError) {
        guard let raw = Config.Webhook.key(ofSecret: secret) else { throw WebhookSecretError() }
        keyBytes = raw
    }

    /// The `webhook-signature` header value for one request.
    public func signature(id: String, timestamp: Int64, body: Data) -> String {
        var message = Data("\(id).\(timestamp).".utf8)
        message.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: keyBytes))
        return "v1," + Data(mac).base64EncodedString()
    }

    /// The three Standard Webhooks headers plus content type, for a request sent now.
    public func headers(id: String, timestamp: Int64, body: Data) -> [(String, String)] {
        [
            ("webhook-id", id),
            ("webhook-timestamp", String(timestamp)),
            ("webhook-signature", signature(id: id, timestamp: timestamp, body: body)),
            ("content-type", "application/json"),
        ]
    }

    static let prefix = "whsec_"

    /// A new random secret: `whsec_` + base64 of 32 bytes from the system's secure generator.
    public static func generateSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return prefix + Data(bytes).base64EncodedString()
    }
}

/// A webhook secret that is not `whsec_` followed by base64 of at least 16 bytes.
public struct WebhookSecretError: Error, CustomStringConvertible {
    public var description: String {
        "a webhook secret must be \"whsec_\" followed by base64 of at least 16 bytes (make one with `watchfolder webhook-secret`)"
    }
}
