import Foundation
import Hummingbird
import WatchFolder

/// The retry answer: the job, plus `restored_as` (its new source name) when its name was taken in the inbox.
struct RetryResponse: Encodable, Sendable {
    var job: JobResource
    var restoredAs: String?

    private enum CodingKeys: String, CodingKey { case restoredAs = "restored_as" }

    func encode(to encoder: any Encoder) throws {
        try job.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(restoredAs, forKey: .restoredAs)
    }
}
