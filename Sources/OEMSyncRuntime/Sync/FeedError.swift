/// A feed that could not finish its run: the database, the drop directory, a file that cannot be
/// read. Carries the feed and file it happened in; never a record's values.
public struct FeedError: Error, Sendable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let description: String
        public static let database = Code(description: "database")
        public static let source = Code(description: "source")
        public static let busy = Code(description: "busy")
        public static let mapping = Code(description: "mapping")
    }

    public var code: Code
    public var feed: String
    public var file: String?
    public var message: String

    public init(_ code: Code, feed: String, file: String? = nil, _ message: String) {
        self.code = code
        self.feed = feed
        self.file = file
        self.message = message
    }

    public var description: String {
        var s = "feed '\(feed)'"
        if let file { s += ", file '\(file)'" }
        return s + ": " + message
    }
}
