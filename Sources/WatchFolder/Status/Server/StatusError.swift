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

/// Why the status server cannot start.
public struct StatusServerError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

/// Turns every error into `{"error": "..."}` with its status: hummingbird's own (404 for an unknown path,
/// 400 for a bad body), the API's, a request cut short (400, logged at debug only), and anything unexpected (500,
/// logged).
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            let message: String
            if let http = error as? HTTPError, let body = http.body { message = body }
            else { message = error.status.reasonPhrase.lowercased() }
            let headers = (error as? HTTPError)?.headers ?? [:]
            return try APIError(error.status, message, headers: headers).response(from: request, context: context)
        } catch let error as HTTPParserError {
            // The client sent a malformed request or went away in the middle of it (a body cut short, the header
            // timeout): its problem, not the server's, so no error in the log.
            context.logger.debug("status request cut short: \(error)", metadata: ["hb.path": "\(request.uri.path)"])
            return try APIError(.badRequest, "the request is malformed or ended early").response(from: request, context: context)
        } catch {
            context.logger.error("status request failed: \(error)", metadata: ["hb.path": "\(request.uri.path)"])
            return try APIError(.internalServerError, "\(error)").response(from: request, context: context)
        }
    }
}

/// Tiny JSON helpers (sorted keys, no escaped slashes).
enum JSON {
    static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "{}"
    }

    static func object(_ value: [String: String]) -> String { encode(value) }

    /// A 200 (or `status`) response with a JSON body.
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status,
                 headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: encode(value))))
    }
}
