/// A subtitle file uploaded beside the source (`clip.srt`, `clip.pt-BR.vtt`), already opened by the daemon beneath
/// the inbox (no symbolic link, a regular file) and checked against what intake recorded: the engine reads ``file``.
/// Each becomes a WebVTT subtitle rendition; one that does not parse fails the job with its file and line.
public struct SubtitleSidecar: Sendable, Hashable {
    /// The file name (no folder), for messages.
    public var name: String
    /// `srt` or `vtt`.
    public var format: String
    /// Its BCP 47 tag (`en`, `pt-BR`), or nil for `STEM.srt`/`STEM.vtt`.
    public var language: String?
    /// The open file: read it by descriptor, never by name.
    public var file: SourceFile

    public init(name: String, format: String, language: String?, file: SourceFile) {
        self.name = name
        self.format = format
        self.language = language
        self.file = file
    }
}
