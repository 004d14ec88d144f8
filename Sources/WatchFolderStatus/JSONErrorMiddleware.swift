import Foundation
import Hummingbird
import Logging
import NIOHTTP1

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
