import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGINT and SIGTERM for a one-pass command (`oemsync sync --once`): the first asks the run to
/// stop after its batch in flight, which commits with its checkpoint; the report is printed, and
/// the process exits 130 (SIGINT) or 143 (SIGTERM). A second signal ends the process at once: the
/// batch in flight rolls back, and the next run resumes from the last committed one.
public final class Interrupts: @unchecked Sendable {
    private let lock = NSLock()
    private var received: Int32?
    private var sources: [any DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "oemsync-signals")

    public init() {}

    /// Starts listening; the signals' default actions are off from here on.
    public func install(onFirst: @escaping @Sendable (Int32) -> Void = { _ in }) {
        for sig in [SIGINT, SIGTERM] {
            Glibc.signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { [weak self, source] in
                guard let self else { return }
                // Signals that come together are delivered as one event with their count.
                let together = source.data
                let first = self.lock.withLock { () -> Bool in
                    defer { if self.received == nil { self.received = sig } }
                    return self.received == nil
                }
                if first && together < 2 {
                    onFirst(sig)
                } else {
                    _exit(128 + sig)
                }
            }
            source.resume()
            sources.append(source)
        }
    }

    /// The first signal received, if any.
    public var signal: Int32? { lock.withLock { received } }

    /// The exit status after a run stopped by a signal: 128 + its number.
    public var exitStatus: Int32? { signal.map { 128 + $0 } }

    /// A control that holds every feed once a signal came.
    public var control: RunControl {
        RunControl(hold: { [self] _ in
            guard let sig = self.signal else { return nil }
            return RunControl.Hold(reason: "stopped by \(sig == SIGINT ? "SIGINT" : "SIGTERM") after the batch in flight", kind: .shutdown)
        })
    }
}
