import Testing
@testable import WatchFolder

/// The settle timer on its own, with a fake clock.
@Suite struct IntakeSettleTrackerTests {
    let a = Fingerprint(device: 1, inode: 1, size: 10, mtimeNanoseconds: 100)
    let b = Fingerprint(device: 1, inode: 1, size: 20, mtimeNanoseconds: 200)

    @Test func writesRestartTheWaitAndScansDoNotWhenNothingChanged() {
        var tracker = SettleTracker(settleNanoseconds: 1000)
        tracker.restart("x.mp4", fingerprint: a, now: 0)
        tracker.observe("x.mp4", fingerprint: a, now: 500)          // same fingerprint: deadline stays 1000
        #expect(tracker.nextDeadline() == 1000)
        tracker.touch("x.mp4", now: 800)                              // a write: deadline 1800
        tracker.touch("untracked.mp4", now: 800)                      // not closed yet: not tracked
        #expect(tracker.popDue(now: 1000).isEmpty)
        tracker.observe("x.mp4", fingerprint: b, now: 1500)           // changed: deadline 2500
        #expect(tracker.popDue(now: 2499).isEmpty)
        let due = tracker.popDue(now: 2500)
        #expect(due.map(\.path) == ["x.mp4"] && due.first?.fingerprint == b)
        #expect(tracker.isEmpty && tracker.nextDeadline() == nil)
    }

    @Test func dueInDeadlineOrderAndForgottenSubtreesNeverDue() {
        var tracker = SettleTracker(settleNanoseconds: 100)
        tracker.restart("d/1.mp4", fingerprint: a, now: 0)
        tracker.restart("2.mp4", fingerprint: a, now: 10)
        tracker.restart("d/e/3.mp4", fingerprint: a, now: 20)
        tracker.restart("dd/4.mp4", fingerprint: a, now: 30)
        tracker.restart("2.mp4", fingerprint: a, now: 40)
        tracker.forget("d", subtree: true)
        #expect(tracker.count == 2)
        #expect(tracker.popDue(now: 1000).map(\.path) == ["dd/4.mp4", "2.mp4"])
    }
}
