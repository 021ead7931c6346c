import Foundation

/// Runs a producer on a thread of its own, up to `capacity` results ahead of the consumer: the
/// next page of a feed is fetched and read while the current one is mapped and written.
///
/// The producer returns nil when it is done. ``cancel()`` stops it after its current call (a
/// consumer that gives up, e.g. on a database failure), without waiting for that call to end (a
/// page's retries can take minutes); ``next()`` then returns nil, and the result is dropped.
final class Prefetcher<Element: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var buffer: [Element] = []
    private var done = false
    private var cancelled = false
    private let capacity: Int

    convenience init(capacity: Int = 2, name: String, produce: @escaping @Sendable () -> Element?) {
        self.init(capacity: capacity, name: name) { (emit: (Element) -> Bool) in
            while let element = produce(), emit(element) {}
        }
    }

    /// A producer that pushes its results: `emit` waits while `capacity` results are unread, and
    /// answers false once the consumer has cancelled (the producer should then return). The
    /// producer is done when it returns.
    init(capacity: Int = 2, name: String, run: @escaping @Sendable (_ emit: (Element) -> Bool) -> Void) {
        self.capacity = capacity
        let thread = Thread { [self] in
            run { element in
                condition.lock()
                defer { condition.unlock() }
                while buffer.count >= capacity && !cancelled { condition.wait() }
                if cancelled { return false }
                buffer.append(element)
                condition.broadcast()
                return true
            }
            condition.lock()
            done = true
            condition.broadcast()
            condition.unlock()
        }
        thread.name = name
        thread.start()
    }

    /// The next result, waiting for it; nil once the producer is done (or cancelled) and all are taken.
    func next() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while buffer.isEmpty && !done && !cancelled { condition.wait() }
        guard !buffer.isEmpty, !cancelled else { return nil }
        condition.broadcast()
        return buffer.removeFirst()
    }

    /// Stops the producer after its current call.
    func cancel() {
        condition.lock()
        cancelled = true
        buffer.removeAll()
        condition.broadcast()
        condition.unlock()
    }
}
