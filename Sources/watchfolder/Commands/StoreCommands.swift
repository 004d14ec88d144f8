public import ArgumentParser
import Foundation
import Logging
public import WatchFolder

private func percent(_ fraction: Double) -> String { "\(Int((fraction * 100).rounded()))%" }

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Counts per state, the queue and running jobs with progress.",
        discussion: """
            Reads the job store; safe while the daemon runs.

            Example:
              watchfolder status --config /etc/watchfolder/config.toml
            """
    )
    @OptionGroup var options: ConfigOption
    @Flag(help: "Print JSON: {counts, running, queued}.") var json = false

    struct Report: Encodable {
        var counts: [String: Int]
        var running: [JobPayload]
        var queued: [JobPayload]
    }

    func run() async throws {
        let config = try options.load()
        let (counts, active, queued) = try await withStore(config) { store in
            (try await store.counts(), try await store.jobs(in: .running) + store.jobs(in: .publishing),
             try await store.jobs(in: .queued))
        }
        if json {
            try printJSON(Report(counts: Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) }),
                                 running: active.map(JobPayload.init), queued: queued.map(JobPayload.init)))
            return
        }
        print(Job.State.allCases.map { "\($0.rawValue) \(counts[$0] ?? 0)" }.joined(separator: "  "))
        if !active.isEmpty {
            print("running:")
            for job in active {
                print("  #\(job.id ?? 0)  \(job.state.rawValue)  \(percent(job.progress))  attempt \(job.attempts)  \(job.sourcePath)")
            }
        }
        if !queued.isEmpty {
            print("queue (\(queued.count)):")
            for job in queued.prefix(20) {
                let retry = job.error.map { "  retrying after: \($0)" } ?? ""
                print("  #\(job.id ?? 0)  \(job.sourcePath)\(retry)")
            }
            if queued.count > 20 { print("  ... and \(queued.count - 20) more") }
        }
    }
}

struct Jobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List jobs, newest first.",
        discussion: """
            JSON fields: id, source, state, attempts, error, encoder, progress, output, master, renditions,
            duration_seconds, created_at, started_at, finished_at, metadata, node (the node that runs or ran it;
            null while queued).

            Example:
              watchfolder jobs --state failed --json
            """
    )
    @OptionGroup var options: ConfigOption
    @Option(help: "queued, running, publishing, completed, failed or cancelled.") var state: Job.State?
    @Option(help: "At most this many jobs.") var limit: Int = 50
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() async throws {
        guard limit >= 0 else { throw CLIFailure.usage("--limit must be at least 0, not \(limit)") }
        let config = try options.load()
        let jobs = try await withStore(config) { try await $0.list(state: state, limit: limit) }
        if json {
            try printJSON(jobs.map(JobPayload.init))
            return
        }
        print("ID\tSTATE\tATTEMPTS\tPROGRESS\tSOURCE\tDETAIL")
        for job in jobs {
            let detail = job.state == .completed ? (job.outputLocation ?? "") : (job.error ?? "")
            print("\(job.id ?? 0)\t\(job.state.rawValue)\t\(job.attempts)\t\(percent(job.progress))\t\(job.sourcePath)\t\(detail)")
        }
    }
}

struct Nodes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The nodes that run jobs from this job store: heartbeat, running jobs, encoder, version, up or gone.",
        discussion: """
            A node is up while it renews its heartbeat within its [state] lease_seconds, gone once it stopped or
            missed a whole lease (its running jobs are then taken over). JSON: an array of objects with name,
            heartbeat_at, running (job ids), encoder, version and state (up or gone).

            Example:
              watchfolder nodes --json
            """
    )
    @OptionGroup var options: ConfigOption
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() async throws {
        let config = try options.load()
        let nodes = try await withStore(config) { try await $0.nodes(now: Date()) }
        if json {
            try printJSON(nodes)
            return
        }
        print("NODE\tSTATE\tHEARTBEAT\tRUNNING\tENCODER\tVERSION")
        for node in nodes {
            let running = node.running.isEmpty ? "-" : node.running.map { "#\($0)" }.joined(separator: ",")
            print("\(node.name)\t\(node.state.rawValue)\t\(node.heartbeatAt)\t\(running)\t\(node.encoder ?? "-")\t\(node.version)")
        }
    }
}

struct Retry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Requeue a failed job (its source is moved back from the failed folder).",
        discussion: """
            Also requeues a cancelled job. Attempts start again from zero. When a newer upload has the
            source's name in the inbox, the source comes back as NAME-<id>.EXT and the job follows it (said so).

            Example:
              watchfolder retry 42
            """
    )
    @OptionGroup var options: ConfigOption
    @Argument(help: "The job id.") var id: Int64

    func run() async throws {
        let config = try options.load()
        let outcome: JobRetry.Outcome
        do {
            outcome = try await withStore(config) { store in
                try await JobRetry.run(id, store: store, settings: SchedulerSettings(config: config),
                                       logger: .init(label: "watchfolder.cli"))
            }
        } catch let error as StoreError {
            throw CLIFailure.work(error.code == .noSuchJob ? "no job \(id)" : "retry: \(error)")
        }
        if outcome.movePending {
            throw CLIFailure.work("job \(id) requeued, but its source could not be moved back into the inbox yet")
        }
        print(outcome.message)
    }
}

struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cancel a queued or running job.",
        discussion: """
            A queued job is cancelled at once; a running job is stopped by the daemon within a second.
            The source stays in the inbox.

            Example:
              watchfolder cancel 42
            """
    )
    @OptionGroup var options: ConfigOption
    @Argument(help: "The job id.") var id: Int64

    func run() async throws {
        let config = try options.load()
        let job: Job
        do { job = try await withStore(config) { try await $0.requestCancel(id) } } catch let error as StoreError {
            throw CLIFailure.work("cancel: \(error)")
        }
        if job.state == .cancelled {
            print("job \(id) cancelled: \(job.sourcePath)")
        } else {
            print("job \(id) is \(job.state.rawValue): the daemon stops it (\(job.sourcePath))")
        }
    }
}

extension Job.State: ExpressibleByArgument {}
