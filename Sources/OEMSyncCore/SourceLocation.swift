/// A place in a text file the user edits: a mapping, the dictionary, the config.
///
/// Lines and columns are 1-based, as editors show them. `description` prints `file:line:column`,
/// the form compilers use, so editors and `grep` can jump to it.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}
