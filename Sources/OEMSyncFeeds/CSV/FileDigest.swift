#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZlib

/// The identity of a dropped file's content: CRC-32 of every byte, as 8 hex digits.
///
/// A checkpoint stores it, so a run never resumes into a file whose content changed since loading
/// started (an OEM re-upload under the same name, an operator's edit). CRC-32 is not a defence
/// against tampering, only against accidents; zlib computes it at several GB/s, so a 100 MB drop
/// costs tens of milliseconds.
public enum FileDigest {
    public static func crc32(path: String) throws(CSVReader.IOError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CSVReader.IOError(description: "cannot open '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var crc = CZlib.crc32(0, nil, 0)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CSVReader.IOError(description: "cannot read '\(path)': \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            crc = buffer.withUnsafeBufferPointer { CZlib.crc32(crc, $0.baseAddress, UInt32(n)) }
        }
        let hex = String(crc, radix: 16)
        return String(repeating: "0", count: max(0, 8 - hex.count)) + hex
    }

    /// Reads `range` of the file at `path` (a batch's bytes, for the ledger's payload).
    public static func read(path: String, range: Range<Int64>) throws(CSVReader.IOError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CSVReader.IOError(description: "cannot open '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: Int(range.count))
        var done = 0
        while done < out.count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, $0.count - done, off_t(range.lowerBound) + off_t(done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw CSVReader.IOError(description: "cannot read bytes \(range) of '\(path)'") }
            done += n
        }
        return out
    }
}
