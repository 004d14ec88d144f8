import Foundation
public import Hummingbird
import Logging
import NIOHTTP1

/// An API error: an HTTP status and a one-line message, sent as `{"error": "..."}`.
public struct APIError: Error, HTTPResponseError, CustomStringConvertible, Sendable {
    public var status: HTTPResponse.Status
    public var message: String
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    public var description: String { message }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: JSON.object(["error": message]))))
    }

    static func notFound(_ what: String) -> APIError { APIError(.notFound, what) }
    static func badRequest(_ what: String) -> APIError { APIError(.badRequest, what) }
}
