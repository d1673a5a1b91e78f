import ArcCore

/// A gzip file (RFC 1952) inflated as it streams: the CSV inside Bybit's `.csv.gz`, read
/// from a file or an S3 object without seeking and without a temporary file.
///
/// Each member's header is parsed here (extra field, name, comment, header CRC), its
/// deflate data inflated raw, and its trailer checked: the CRC-32 and the size (mod 2^32)
/// of what came out. `read` returns 0 only after the last member's trailer matched and the
/// file ended; members written one after another (as `cat a.gz b.gz`) read as one stream,
/// as gunzip reads them. Memory is the input buffer and zlib's 32 KB window, whatever the
/// file's size; a name or comment longer than 64 KB is refused rather than buffered.
public final class GzipReader: ByteSource {
    /// The file's path or key, for messages.
    public let name: String
    /// The first member's stored file name, when its header has one.
    public private(set) var entryName: String?
    /// Members whose trailer was checked.
    public private(set) var members = 0
    /// Bytes read out so far, all members together.
    public private(set) var inflatedBytes: Int64 = 0

    private let input: ZipInput
    /// Raw deflate: the gzip header and trailer are read here, to say which part is wrong.
    private let inflater = RawInflater()
    private var phase = Phase.header
    private var failure = StickyFailure<GzipError>()
    /// The current member's deflate bytes consumed, inflated bytes, and their CRC-32.
    private var memberCompressed: Int64 = 0
    private var memberInflated: Int64 = 0
    private var memberCRC: UInt32 = 0

    private enum Phase { case header, data, trailer, between, done }

    static let maxHeaderText = 1 << 16

    public init(source: ByteSource, name: String, bufferSize: Int = 1 << 20) {
        self.name = name
        input = ZipInput(source: source, capacity: bufferSize)
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try failure.read { try step(into: buffer) }
    }

    private func step(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            switch phase {
            case .header:
                try readHeader()
                phase = .data
            case .data:
                guard buffer.count > 0 else { return 0 }
                let (count, ended) = try inflate(into: buffer)
                if ended { phase = .trailer }
                if count > 0 { return count }
            case .trailer:
                try readTrailer()
                phase = .between
            case .between:
                // The end, or another member; anything else is not gzip data.
                if input.available == 0, !(try input.refill()) {
                    phase = .done
                    continue
                }
                _ = try input.request(2)
                guard input.available >= 2, input.pending[0] == 0x1F, input.pending[1] == 0x8B else {
                    throw error(.corruptArchive, "has bytes after the end of its gzip data at offset \(input.offset) "
                                    + "that are not another gzip member (\"\(printable(input.pending))\")")
                }
                phase = .header
            case .done:
                return 0
            }
        }
    }

    private func error(_ kind: GzipError.Kind, _ message: String) -> GzipError {
        GzipError(kind, archive: name, message)
    }

    private var memberLabel: String { members == 0 ? "its gzip data" : "gzip member #\(members + 1)" }

    // MARK: Header

    private func readHeader() throws {
        let offset = input.offset
        _ = try input.request(10)
        let opening = input.pending
        if members == 0 {
            if opening.isEmpty { throw error(.notGzip, "is empty, not a gzip file") }
            let magic: [UInt8] = [0x1F, 0x8B, 0x08]
            if opening.count < 10, zip(opening, magic).allSatisfy({ $0 == $1 }) {
                throw error(.truncated, "ends after \(opening.count) bytes, inside the gzip header")
            }
            guard opening.count >= 2, opening[0] == 0x1F, opening[1] == 0x8B else {
                throw error(.notGzip, "is not a gzip file: it starts with \"\(printable(opening))\"")
            }
        } else if opening.count < 10 {
            throw error(.truncated, "ends inside the header of \(memberLabel) at offset \(offset)")
        }
        guard opening[2] == 8 else {
            throw error(.unsupported, "\(memberLabel) uses compression method \(opening[2]) (only deflate, 8, is gzip's)")
        }
        let flags = opening[3]
        guard flags & 0xE0 == 0 else {
            throw error(.corruptArchive, "\(memberLabel) has reserved header flags set (0x\(String(flags, radix: 16)))")
        }
        var length = 10
        if flags & 0x04 != 0 { // FEXTRA: a 2-byte length, then that many bytes
            guard try input.request(length + 2) else { throw truncatedHeader(offset) }
            length += 2 + Int(input.u16(length))
            guard try input.request(length) else { throw truncatedHeader(offset) }
        }
        if flags & 0x08 != 0 { // FNAME, zero-terminated
            let end = try zeroTerminated(from: length, offset: offset, what: "file name")
            if members == 0 { entryName = input.text(length, end - length) }
            length = end + 1
        }
        if flags & 0x10 != 0 { // FCOMMENT, zero-terminated
            length = try zeroTerminated(from: length, offset: offset, what: "comment") + 1
        }
        if flags & 0x02 != 0 { // FHCRC: the low 16 bits of the CRC-32 of the header before it
            guard try input.request(length + 2) else { throw truncatedHeader(offset) }
            let header = input.bytes(0, length)
            let crc = crc32(continuing: 0, header.baseAddress!, count: length)
            guard UInt16(truncatingIfNeeded: crc) == input.u16(length) else {
                throw error(.corruptArchive, "the header CRC of \(memberLabel) does not match its header")
            }
            length += 2
        }
        input.consume(length)
        memberCompressed = 0
        memberInflated = 0
        memberCRC = 0
        inflater.reset()
    }

    private func truncatedHeader(_ offset: Int64) -> GzipError {
        error(.truncated, "ends inside the header of \(memberLabel) at offset \(offset)")
    }

    /// The position (from the header's start) of the zero ending the text at `from`.
    private func zeroTerminated(from: Int, offset: Int64, what: String) throws -> Int {
        var at = from
        while true {
            while at < input.available {
                if input.pending[at] == 0 { return at }
                at += 1
            }
            guard at - from < GzipReader.maxHeaderText else {
                throw error(.corruptArchive, "the \(what) in the header of \(memberLabel) runs past \(GzipReader.maxHeaderText) bytes")
            }
            guard try input.request(at + 1) else { throw truncatedHeader(offset) }
        }
    }

    // MARK: Data

    /// Inflates the member's next bytes into `out`; `ended` once its deflate data is over.
    /// Returns at least one byte or the end, unless `out` is empty.
    private func inflate(into out: UnsafeMutableRawBufferPointer) throws -> (count: Int, ended: Bool) {
        var produced = 0
        while true {
            let step = inflater.inflate(from: input, into: out, after: produced)
            memberCompressed += Int64(step.used)
            if step.made > 0 {
                memberCRC = crc32(continuing: memberCRC, out.baseAddress! + produced, count: step.made)
                memberInflated += Int64(step.made)
                inflatedBytes += Int64(step.made)
                produced += step.made
            }
            switch step.outcome {
            case .ended:
                return (produced, true)
            case .going:
                break
            case .corrupt(let reason):
                throw error(.corruptStream, "the deflate data of \(memberLabel) is corrupt (\(reason)) after \(memberCompressed) compressed bytes")
            case .failed(let code):
                throw error(.corruptStream, "inflating \(memberLabel) failed (zlib code \(code))")
            }
            if produced == out.count || produced > 0 { return (produced, false) }
            // Nothing came out and room is left: inflate wants more input.
            if input.available == 0 || step.used == 0, !(try input.refill()) {
                throw error(.truncated, "ends inside the deflate data of \(memberLabel) after \(memberCompressed) compressed bytes")
            }
        }
    }

    // MARK: Trailer

    private func readTrailer() throws {
        guard try input.request(8) else {
            throw error(.truncated, "ends inside the trailer of \(memberLabel) (\(input.available) of its 8 bytes)")
        }
        let crc = input.u32(0), size = input.u32(4)
        if crc != memberCRC {
            throw error(.crcMismatch, "\(memberLabel) inflates to bytes whose CRC-32 is \(hex(memberCRC)), not the \(hex(crc)) its trailer gives")
        }
        if size != UInt32(truncatingIfNeeded: memberInflated) {
            throw error(.sizeMismatch, "\(memberLabel) inflates to \(memberInflated) bytes, not the \(size) (mod 2^32) its trailer gives")
        }
        input.consume(8)
        members += 1
    }

    private func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}
