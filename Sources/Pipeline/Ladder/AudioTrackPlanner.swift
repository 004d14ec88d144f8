import Foundation

/// One audio rendition the engine will encode (a source with two or more audio streams): one source stream, one
/// AAC encode, its own folder.
public struct PlannedAudioTrack: Sendable, Codable, Hashable {
    /// The source stream it is made from.
    public var streamIndex: Int
    /// Folder of its playlist and segments: `audio_en`; `audio_en_2` for a second English track, `audio_und`.
    public var folder: String
    /// BCP 47 (`en`, `fr`, `pt-BR`), `und` when untagged or unknown: the master's LANGUAGE.
    public var language: String
    /// The master's NAME: the stream's `title` tag, else the language's English name, else `Track N` (N its place
    /// among the audio renditions, from 1); unique within the group (` (2)` added to a repeat).
    public var name: String
    /// DEFAULT=YES: the stream marked default, else the first.
    public var isDefault: Bool
    /// Channels of the encoded audio (the AAC encode is stereo): the master's CHANNELS.
    public var channels: Int
}

/// Decides which audio streams of a source become renditions, and their names.
public enum AudioTrackPlanner {
    /// Channels of every AAC encode (``AudioPath`` resamples to 48 kHz stereo).
    public static let encodedChannels = 2

    /// The audio renditions of `info`: every decodable audio stream in stream order, at most `maxTracks`; empty when
    /// fewer than two (the package then carries the one audio stream in every video rendition, as before), unless
    /// `separate`.
    /// - Parameter separate: a single audio stream becomes a rendition too (``TranscodeOptions/writesDash``: CMAF
    ///   wants one track per file).
    /// - Returns: the tracks, and how many audio streams were left out by the cap.
    public static func plan(_ info: MediaInfo, maxTracks: Int, separate: Bool = false) -> (tracks: [PlannedAudioTrack], ignored: Int) {
        let streams = info.audioStreams ?? []
        let kept = Array(streams.prefix(max(0, maxTracks)))
        let ignored = streams.count - kept.count
        guard kept.count >= (separate ? 1 : 2) else { return ([], ignored) }
        let defaultIndex = kept.firstIndex { $0.isDefault == true } ?? 0
        var folders: Set<String> = [], names: Set<String> = []
        var tracks: [PlannedAudioTrack] = []
        for (i, stream) in kept.enumerated() {
            let language = LanguageCodes.bcp47(stream.languageTag)
            let folder = unique("audio_" + language.replacingOccurrences(of: "-", with: "_"), in: &folders) { "\($0)_\($1)" }
            let title = stream.title.map(attributeText).flatMap { $0.isEmpty ? nil : $0 }
            let base = title ?? LanguageCodes.name(of: language) ?? "Track \(i + 1)"
            let name = unique(base, in: &names) { "\($0) (\($1))" }
            tracks.append(PlannedAudioTrack(streamIndex: stream.streamIndex, folder: folder, language: language, name: name,
                                            isDefault: i == defaultIndex, channels: encodedChannels))
        }
        return (tracks, ignored)
    }

    /// `base`, or `base` with 2, 3... appended by `suffix`, whichever is not yet in `taken` (then taken).
    static func unique(_ base: String, in taken: inout Set<String>, suffix: (String, Int) -> String) -> String {
        var candidate = base, n = 1
        while taken.contains(candidate) { n += 1; candidate = suffix(base, n) }
        taken.insert(candidate)
        return candidate
    }

    /// A stranger's title made safe for a quoted-string attribute (RFC 8216 4.2: no `"`, CR or LF): control
    /// characters and double quotes dropped, at most 64 characters.
    static func attributeText(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.filter { $0 != "\"" && $0.properties.generalCategory != .control }).prefix(64))
            .trimmingCharacters(in: .whitespaces)
    }
}
