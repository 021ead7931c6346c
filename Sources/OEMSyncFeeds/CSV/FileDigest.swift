#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZlib
import OEMSyncCore

/// The identity of a dropped file's content, read once: CRC-32 and SHA-256 of every byte.
///
/// A checkpoint stores the CRC-32, so a run never resumes into a file whose content changed since
/// loading started (an OEM re-upload under the same name, an operator's edit); zlib computes it at
/// several GB/s. The ledger keys each loaded file by its SHA-256 (``SHA256``), so the same content
/// dropped again is recognised: a collision there would skip a file, which CRC-32 cannot rule out.
public enum FileDigest {
    public struct Content: Sendable, Hashable {
        /// 8 hex digits.
        public var crc32: String
        /// 64 hex digits.
        public var sha256: String
        public var size: Int64
    }

    public static func content(path: String) throws(CSVReader.IOError) -> Content {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CSVReader.IOError(description: "cannot open '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var crc = CZlib.crc32(0, nil, 0)
        var sha = SHA256()
        var size: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CSVReader.IOError(description: "cannot read '\(path)': \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            size += Int64(n)
            buffer.withUnsafeBufferPointer { b in
                crc = CZlib.crc32(crc, b.baseAddress, UInt32(n))
                sha.update(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(b)[0..<n]))
            }
        }
        let hex = String(crc, radix: 16)
        return Content(crc32: String(repeating: "0", count: max(0, 8 - hex.count)) + hex, sha256: sha.finish(), size: size)
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
