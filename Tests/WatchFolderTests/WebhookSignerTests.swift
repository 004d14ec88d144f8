import Foundation
import Testing
import WatchFolder

@Suite("Webhook signatures")
struct WebhookSignerTests {
    @Test("matches the Standard Webhooks reference vector")
    func referenceVector() throws {
        // From the standard-webhooks specification's test suite.
        let signer = try WebhookSigner(secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let sig = signer.signature(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330,
                                   body: Data(#"{"test": 2432232314}"#.utf8))
        #expect(sig == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test("a changed body, id or timestamp changes the signature")
    func sensitivity() throws {
        let signer = try WebhookSigner(secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let body = Data("{}".utf8)
        let a = signer.signature(id: "msg_1", timestamp: 1, body: body)
        #expect(a != signer.signature(id: "msg_2", timestamp: 1, body: body))
        #expect(a != signer.signature(id: "msg_1", timestamp: 2, body: body))
        #expect(a != signer.signature(id: "msg_1", timestamp: 1, body: Data("{ }".utf8)))
    }

    @Test("generated secrets are well-formed, 32 random bytes, and differ")
    func generate() throws {
        let a = WebhookSigner.generateSecret()
        let b = WebhookSigner.generateSecret()
        #expect(a.hasPrefix("whsec_"))
        #expect(Data(base64Encoded: String(a.dropFirst(6)))?.count == 32)
        #expect(a != b)
        _ = try WebhookSigner(secret: a)
    }

    @Test("malformed secrets are refused")
    func malformed() {
        #expect(throws: WebhookSecretError.self) { try WebhookSigner(secret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") }
        #expect(throws: WebhookSecretError.self) { try WebhookSigner(secret: "whsec_!!notbase64") }
        // The config's rule: at least 16 bytes (8 are refused by both).
        let short = "whsec_" + Data(repeating: 7, count: 8).base64EncodedString()
        #expect(throws: WebhookSecretError.self) { try WebhookSigner(secret: short) }
        #expect(Config.Webhook.key(ofSecret: short) == nil)
        #expect(Config.Webhook.key(ofSecret: "whsec_" + Data(repeating: 7, count: 16).base64EncodedString())?.count == 16)
    }
}
