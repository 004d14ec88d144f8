import Foundation
import Pipeline

/// Turns one source into one package; the scheduler's view of the engine (``TranscoderBuilder``).
///
/// - Important: Cancelling the calling task must stop the build promptly and leave nothing in `work`.
public protocol PackageBuilder: Sendable {
    func build(_ request: BuildRequest, progress: @escaping @Sendable (Double) -> Void) async throws -> BuiltPackage
}
