import Foundation

/// The thumbnails and the poster, taken from the video graph's `[thumb]` sink (BT.709 pictures at the output rate):
/// each target time takes the first picture at or after it; targets past the last picture take the last one.
/// The same pictures feed the ``StoryboardTap``.
///
/// Not `Sendable`: it lives and dies on the thread that runs the job.
final class ThumbnailTap {
    private let plan: SessionPlan
    private let outputs: SessionOutputs
    /// The latest picture seen (a reference), for targets the video never reaches.
    private let last: Frame
    private var haveFrame = false
    private var next = 0
    /// Written so far, relative to the work directory (`thumbnails/thumb_01.jpg`).
    private(set) var thumbnails: [String] = []
    private(set) var poster: String?
    let storyboard: StoryboardTap

    init(plan: SessionPlan, outputs: SessionOutputs) throws(MediaError) {
        self.plan = plan
        self.outputs = outputs
        last = try Frame()
        storyboard = try StoryboardTap(storyboard: plan.storyboard, workDirectory: plan.workDirectory, outputs: outputs)
    }

    /// Takes `frame` (pts in `timeBase`): keeps a reference and writes the poster or the next thumbnail when due.
    func take(_ frame: Frame, timeBase tb: Rational) throws(MediaError) {
        let t = Double(frame.pts) * Double(tb.num) / Double(tb.den)
        last.reference(frame)
        haveFrame = true
        if poster == nil, t >= plan.posterTime { try writePoster() }
        if next < plan.thumbnailTimes.count, t >= plan.thumbnailTimes[next] {
            try writeThumbnail()
        }
        try storyboard.take(frame, seconds: t)
    }

    /// Targets past the last decoded frame (a short or damaged source) take the last frame; the storyboard's cues
    /// end at `duration` (output seconds).
    func finish(duration: Double) throws(MediaError) {
        guard haveFrame else { return }
        if poster == nil { try writePoster() }
        while next < plan.thumbnailTimes.count { try writeThumbnail() }
        try storyboard.finish(duration: duration)
    }

    private func writeThumbnail() throws(MediaError) {
        let w = 320
        let h = max(2, Int((Double(w) * Double(last.height) / Double(max(1, last.width)) / 2).rounded()) * 2)
        let name = String(format: "thumbnails/thumb_%02d.jpg", next + 1)
        let url = plan.workDirectory.appendingPathComponent(name)
        try JPEGWriter.write(last, width: w, height: h, to: url.path)
        outputs.count(fileAt: url)
        thumbnails.append(name)
        next += 1
    }

    private func writePoster() throws(MediaError) {
        let url = plan.workDirectory.appendingPathComponent("poster.jpg")
        try JPEGWriter.write(last, width: last.width, height: last.height, to: url.path)
        outputs.count(fileAt: url)
        poster = "poster.jpg"
    }
}
