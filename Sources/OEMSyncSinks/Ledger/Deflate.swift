import CZlib

/// zlib's deflate format, for payloads kept in the ledger: a CSV chunk or a JSON page shrinks five
/// to ten times at level 1, which costs a few milliseconds per megabyte.
enum Deflate {
    static func compress(_ input: [UInt8], level: Int32 = 1) throws(SinkError) -> [UInt8] {
        var stream = z_stream()
        guard oemsync_deflate_init(&stream, level) == Z_OK else { throw SinkError(.write, "cannot start zlib") }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))))
        let produced: Int = input.withUnsafeBufferPointer { src in
            output.withUnsafeMutableBufferPointer { dst in
                stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress)
                stream.avail_in = UInt32(src.count)
                stream.next_out = dst.baseAddress
                stream.avail_out = UInt32(dst.count)
                // deflateBound guarantees one call with Z_FINISH completes.
                guard deflate(&stream, Z_FINISH) == Z_STREAM_END else { return -1 }
                return Int(stream.total_out)
            }
        }
        guard produced >= 0 else { throw SinkError(.write, "zlib could not deflate a payload of \(input.count) bytes") }
        output.removeSubrange(produced...)
        return output
    }

    /// Inflates `input`, which must decompress to exactly `size` bytes (stored beside it).
    static func decompress(_ input: [UInt8], size: Int) throws(SinkError) -> [UInt8] {
        if size == 0 { return [] }
        var stream = z_stream()
        guard oemsync_inflate_init(&stream) == Z_OK else { throw SinkError(.query, "cannot start zlib") }
        defer { inflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: size)
        let status: Int32 = input.withUnsafeBufferPointer { src in
            output.withUnsafeMutableBufferPointer { dst in
                stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress)
                stream.avail_in = UInt32(src.count)
                stream.next_out = dst.baseAddress
                stream.avail_out = UInt32(dst.count)
                return inflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END, Int(stream.total_out) == size else {
            throw SinkError(.query, "stored payload is damaged (zlib status \(status), \(stream.total_out) of \(size) bytes)")
        }
        return output
    }
}
