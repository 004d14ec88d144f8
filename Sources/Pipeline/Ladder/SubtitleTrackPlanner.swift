import Foundation

/// One subtitle rendition the package will have: a text subtitle stream of the source, or a sidecar file.
struct PlannedSubtitleTrack: Sendable, Hashable {
    enum Origin: Sendable, Hashable {
        /// A stream of the source, decoded in the pass.
        case stream(Int)
        /// The sidecar at this place of the planner's `sidecars` (``TranscodeRequest/subtitles``).
        case sidecar(Int, name: String)
    }

    var origin: Origin
    /// Folder of its playlist, segments and whole file: `subs_en`, `subs_pt-BR`, `subs_en_2`, `subs_und`.
    var folder: String
    /// BCP 47, `und` when untagged or unknown: the master's LANGUAGE.
    var language: String
    /// The master's NAME: the stream's title, else the language's English name, else `Subtitles N` (N its place among
    /// the subtitle renditions, from 1); unique within the group (` (2)` added to a repeat).
    var name: String
    /// DEFAULT=YES: the first stream of the source its container marks default; never a sidecar.
    var isDefault: Bool

    var streamIndex: Int? { if case .stream(let i) = origin { i } else { nil } }
    var sidecarName: String? { if case .sidecar(_, let name) = origin { name } else { nil } }
}

/// Decides which subtitle streams and sidecars become renditions, and their names: the source's text subtitle
/// streams in stream order (at most ``SubtitleCue/Bounds/maxStreams``), then the sidecars in name order.
enum SubtitleTrackPlanner {
    /// - Returns: the tracks, and how many streams of the source were left out by the cap.
    /// - Parameter sidecars: each subtitle sidecar's file name and BCP 47 tag (nil for `STEM.srt` / `STEM.vtt`).
    static func plan(_ info: MediaInfo, sidecars: [(name: String, language: String?)]) -> (tracks: [PlannedSubtitleTrack], ignored: Int) {
        let streams = info.subtitleStreams ?? []
        let kept = streams.prefix(SubtitleCue.Bounds.maxStreams)
        let defaultIndex = kept.first { $0.isDefault }?.streamIndex
        var folders: Set<String> = [], names: Set<String> = []
        var tracks: [PlannedSubtitleTrack] = []
        func add(_ origin: PlannedSubtitleTrack.Origin, language: String, title: String?, isDefault: Bool) {
            let folder = AudioTrackPlanner.unique("subs_" + language, in: &folders) { "\($0)_\($1)" }
            let title = title.map(AudioTrackPlanner.attributeText).flatMap { $0.isEmpty ? nil : $0 }
            let base = title ?? LanguageCodes.name(of: language) ?? "Subtitles \(tracks.count + 1)"
            tracks.append(PlannedSubtitleTrack(origin: origin, folder: folder, language: language,
                                               name: AudioTrackPlanner.unique(base, in: &names) { "\($0) (\($1))" }, isDefault: isDefault))
        }
        for stream in kept {
            add(.stream(stream.streamIndex), language: LanguageCodes.bcp47(stream.languageTag), title: stream.title,
                isDefault: stream.streamIndex == defaultIndex)
        }
        for (i, sidecar) in sidecars.enumerated().sorted(by: { $0.element.name < $1.element.name }) {
            add(.sidecar(i, name: sidecar.name), language: language(sidecar.language), title: nil, isDefault: false)
        }
        return (tracks, streams.count - kept.count)
    }

    /// A sidecar's BCP 47 tag as intake read it from its name (`pt-BR`), limited to letters, digits and dashes (it
    /// names a folder and fills an attribute); `und` for `STEM.srt` / `STEM.vtt`.
    static func language(_ tag: String?) -> String {
        let tag = String((tag ?? "").unicodeScalars.filter { $0.isASCII && ($0 == "-" || CharacterSet.alphanumerics.contains($0)) }
            .prefix(35).map(Character.init))
        return tag.isEmpty ? "und" : tag
    }
}
