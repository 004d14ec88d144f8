import ArgumentParser
import Foundation
import Logging
import WatchFolder

/// `watchfolder s3-upload DIR --key PREFIX`: uploads a package directory with the `[s3]` settings (hidden; for
/// benchmarks and manual checks, the daemon uploads from its publishing state).
struct S3Upload: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "s3-upload",
        abstract: "Upload a package directory to the configured S3 bucket (resumable), master playlist last.",
        discussion: """
            Prints the master playlist's public URL. Exit codes: 0 uploaded, 1 the upload failed, 2 usage/config.

            Example:
              watchfolder s3-upload var/outbox/clip --key clip --config ./var/config.toml
            """,
        shouldDisplay: false
    )

    @OptionGroup var options: ConfigOption
    @Argument(help: "The package directory (it must hold master.m3u8).") var directory: String
    @Option(name: .long, help: ArgumentHelp("Key prefix under [s3] prefix.", valueName: "prefix")) var key: String
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        let config = try options.load()
        guard let s3 = config.s3 else { throw CLIFailure.usage("s3-upload: the config has no [s3] table") }
        LogSetup.bootstrap(level: config.log.loggerLevel, json: config.log.format == .json)
        let uploader: S3Uploader
        do {
            uploader = try S3Uploader(config: s3, logger: Logger(label: "watchfolder.s3"))
        } catch {
            throw CLIFailure.work("\(error)")
        }
        let result: S3UploadResult
        do {
            result = try await uploader.uploadPackage(
                directory: URL(fileURLWithPath: directory), keyPrefix: key, progress: nil)
        } catch {
            throw CLIFailure.work("\(error)")
        }
        if json {
            let object: [String: Any] = [
                "master_url": result.masterURL, "master_key": result.masterKey,
                "objects_uploaded": result.objectsUploaded, "objects_skipped": result.objectsSkipped,
                "bytes_uploaded": result.bytesUploaded, "bytes_skipped": result.bytesSkipped,
                "multipart_objects": result.multipartObjects, "stale_uploads_aborted": result.staleUploadsAborted,
                "uploads_resumed": result.uploadsResumed, "parts_reused": result.partsReused,
                "deleted_local": result.deletedLocal,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(result.masterURL)
        }
    }
}
