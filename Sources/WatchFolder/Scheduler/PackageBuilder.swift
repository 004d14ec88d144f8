import Foundation
public import Pipeline

/// Turns one source into one package; the scheduler's view of the engine (``TranscoderBuilder``).
///
/// - Important: Cancelling the calling task must stop the build promptly and leave nothing in `work`.
public protocol PackageBuilder: Sendable {
    /// - Parameter progress: The engine's progress: fraction done, speed and ETA (the engine probed the source).
    func build(_ request: BuildRequest, progress: @escaping @Sendable (TranscodeProgress) -> Void) async throws -> BuiltPackage
}
