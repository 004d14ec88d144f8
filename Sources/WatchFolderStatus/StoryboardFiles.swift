import Foundation
import Pipeline

/// Which files of a package `GET /api/jobs/{id}/storyboard/{file}` serves: the manifest's `storyboard.vtt` and
/// those of its sheets beside it, by their last path component (the cues name sheets relative to the VTT, so
/// the browser asks for them beside its URL). Any other name is not served, whatever the package folder holds.
enum StoryboardFiles {
    /// The package-relative path served as `file`, or nil when the manifest names no such storyboard file.
    static func relativePath(of file: String, in storyboard: ManifestView.Storyboard?) -> String? {
        guard let vtt = storyboard?.vtt else { return nil }
        let folder = (vtt as NSString).deletingLastPathComponent
        let candidates = [vtt] + (storyboard?.sheets ?? []).filter { ($0 as NSString).deletingLastPathComponent == folder }
        return candidates.first { ($0 as NSString).lastPathComponent == file }
    }

    /// `vtt`'s last path component, percent-encoded for a URL path segment; nil when it has none.
    static func servedName(_ vtt: String) -> String? {
        let name = (vtt as NSString).lastPathComponent
        guard !name.isEmpty, name != "/", name != ".", name != ".." else { return nil }
        return name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/;?#%")))
    }
}
