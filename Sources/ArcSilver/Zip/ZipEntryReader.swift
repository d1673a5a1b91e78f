import ArcCore

/// The first entry of a zip archive, inflated as it streams: the CSV inside a Binance
/// archive, read from a file or an S3 object without seeking and without a temporary file.
///
/// The archive is read front to back. The first entry's bytes come out of `read`; `read`
/// returns 0 only after the entry's CRC-32 and sizes were checked (against its local
/// header or data descriptor) and the rest of the archive was read and checked too: other
/// entries (inflated and checked the same way, their bytes dropped), the central directory
/// (which must agree with every local header) and the end record. Bytes after the end
/// record are not read. Several entries are not an error here: `entries` lists them.
///
/// Stored (0) and deflate (8) entries; data descriptors (general purpose bit 3) with or
/// without their signature, with 4- or 8-byte sizes; zip64 extra fields and end records.
/// Memory is the input buffer (1 MiB unless told) and zlib's 32 KB window, whatever the
/// archive's size.
public final class ZipEntryReader: ByteSource {
    /// The archive's path or key, for messages.
    public let name: String
    /// The first entry's name, known after the first read.
    public private(set) var entryName: String?
    /// Every entry's name in archive order, complete once `read` returned 0.
    public private(set) var entries: [String] = []
    /// The first entry's bytes read so far: compressed (as stored in the archive) and inflated.
    public private(set) var compressedBytes: Int64 = 0
    public private(set) var inflatedBytes: Int64 = 0

    let input: ZipInput
    /// Raw deflate: zip entries have no zlib header or trailer.
    private let inflater = RawInflater()
    private var phase = Phase.firstHeader
    private var failure = StickyFailure<ZipError>()

    /// The entry whose data is being read, and what its data came to so far.
    var current: LocalHeader?
    var entryCompressed: Int64 = 0
    var entryInflated: Int64 = 0
    var entryCRC: UInt32 = 0
    /// A stored entry with a data descriptor has no size before its data: the reader
    /// scans for the descriptor. Candidates before this archive offset were rejected.
    var scannedTo: Int64 = 0
    /// The scan's find: the archive offset where the stored data ends, and the layout of
    /// the descriptor there.
    var storedDescriptorEnd: (Int64, DescriptorLayout)?
    /// Entries whose data was read, for the central directory to agree with.
    var readEntries: [ReadEntry] = []
    /// Where later entries' inflated bytes go (allocated only when there are any).
    private var scratch: UnsafeMutableRawBufferPointer?

    private enum Phase { case firstHeader, firstData, rest, done }

    /// `name` is the archive's path or key, used in error messages. `bufferSize` is the
    /// input read size: large reads keep a file or a network stream cheap per byte.
    public init(source: ByteSource, name: String, bufferSize: Int = 1 << 20) {
        self.name = name
        input = ZipInput(source: source, capacity: bufferSize)
    }

    deinit { scratch?.deallocate() }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try failure.read { try step(into: buffer) }
    }

    private func step(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            switch phase {
            case .firstHeader:
                try readFirstHeader()
                phase = .firstData
            case .firstData:
                guard buffer.count > 0 else { return 0 }
                let (count, ended) = try readData(into: buffer)
                compressedBytes = entryCompressed
                inflatedBytes = entryInflated
                if ended {
                    try finishEntry()
                    phase = .rest
                }
                if count > 0 { return count }
            case .rest:
                try readRemainingRecords()
                phase = .done
            case .done:
                return 0
            }
        }
    }

    // MARK: Errors

    func error(_ kind: ZipError.Kind, _ message: String) -> ZipError {
        ZipError(kind, archive: name, message)
    }

    /// "entry "x.csv"" for messages.
    func entryLabel(_ header: LocalHeader) -> String { "entry \(quoted(header.name))" }

    // MARK: Local headers

    private func readFirstHeader() throws {
        _ = try input.request(4)
        let opening = input.pending
        if opening.isEmpty { throw error(.notZip, "is empty, not a zip archive") }
        let signature: [UInt8] = [0x50, 0x4B, 0x03, 0x04]
        if opening.count < 4 {
            if zip(opening, signature).allSatisfy({ $0 == $1 }) {
                throw error(.truncated, "ends after \(opening.count) bytes, inside the first local header")
            }
            throw error(.notZip, "is not a zip archive (\(opening.count) bytes: \"\(printable(opening))\")")
        }
        let first = input.u32(0)
        if first == ZipSignature.end || first == ZipSignature.zip64End {
            throw error(.noEntry, "is an empty zip archive: no entry")
        }
        guard first == ZipSignature.local else {
            _ = try input.request(24)
            throw error(.notZip, "is not a zip archive: it starts with \"\(printable(input.pending))\"")
        }
        let header = try readLocalHeader()
        entryName = header.name
        try begin(header)
    }

    /// Parses the local header at the position (its signature checked by the caller)
    /// and moves past it.
    func readLocalHeader() throws -> LocalHeader {
        let offset = input.offset
        let ordinal = entries.count + 1
        guard try input.request(30) else {
            throw error(.truncated, "ends inside the local header of entry #\(ordinal) at offset \(offset)")
        }
        let nameLength = Int(input.u16(26))
        let extraLength = Int(input.u16(28))
        guard try input.request(30 + nameLength + extraLength) else {
            throw error(.truncated, "ends inside the local header of entry #\(ordinal) at offset \(offset)")
        }
        var header = LocalHeader(name: input.text(30, nameLength), offset: offset, flags: input.u16(6),
                                 method: input.u16(8), crc: input.u32(14), compressedSize: nil, size: nil, zip64: false)
        var compressed = Int64(input.u32(18))
        var size = Int64(input.u32(22))
        if let values = zip64Values(in: input.bytes(30 + nameLength, extraLength)) {
            header.zip64 = true
            // A local header's zip64 field holds both sizes (size first) when it holds
            // two; one value belongs to the first size marked 0xFFFFFFFF.
            if values.count >= 2 {
                if size == Int64(zip64Marker) { size = Int64(bitPattern: values[0]) }
                if compressed == Int64(zip64Marker) { compressed = Int64(bitPattern: values[1]) }
            } else if let value = values.first {
                if size == Int64(zip64Marker) { size = Int64(bitPattern: value) }
                else if compressed == Int64(zip64Marker) { compressed = Int64(bitPattern: value) }
            }
        }
        input.consume(30 + nameLength + extraLength)
        entries.append(header.name)
        if !header.hasDescriptor {
            guard compressed >= 0, size >= 0 else {
                throw error(.sizeMismatch, "\(entryLabel(header)): sizes out of range in its local header")
            }
            header.compressedSize = compressed
            header.size = size
        }
        if header.encrypted { throw error(.unsupported, "\(entryLabel(header)) is encrypted") }
        guard header.method == 0 || header.method == 8 else {
            throw error(.unsupported, "\(entryLabel(header)) uses compression method \(header.method) (only stored and deflate are read)")
        }
        return header
    }

    /// Makes `header`'s entry the one whose data `readData` reads.
    func begin(_ header: LocalHeader) throws {
        current = header
        entryCompressed = 0
        entryInflated = 0
        entryCRC = 0
        scannedTo = input.offset
        storedDescriptorEnd = nil
        if header.method == 8 { inflater.reset() }
    }

    // MARK: Later entries

    /// Reads a later entry's data through a scratch buffer and checks it as the first one's.
    func skipEntry() throws {
        if scratch == nil { scratch = .allocate(byteCount: 1 << 18, alignment: 16) }
        while true {
            let (_, ended) = try readData(into: scratch!)
            if ended { break }
        }
        try finishEntry()
    }

    /// Inflates (or copies) the current entry's next bytes into `out`; `ended` once its
    /// data is over (the bytes before it still counted). Returns at least one byte or
    /// the end, unless `out` is empty.
    func readData(into out: UnsafeMutableRawBufferPointer) throws -> (count: Int, ended: Bool) {
        let header = current!
        if header.method == 8 { return try inflate(header, into: out) }
        if let size = header.compressedSize { return try copyStored(header, size: size, into: out) }
        return try copyStoredScanning(header, into: out)
    }

    private func inflate(_ header: LocalHeader, into out: UnsafeMutableRawBufferPointer) throws -> (count: Int, ended: Bool) {
        var produced = 0
        while true {
            let remaining = header.compressedSize.map { $0 - entryCompressed }
            let step = inflater.inflate(from: input, limit: remaining.map { Int(clamping: $0) } ?? .max, into: out, after: produced)
            entryCompressed += Int64(step.used)
            if step.made > 0 {
                entryCRC = crc32(continuing: entryCRC, out.baseAddress! + produced, count: step.made)
                entryInflated += Int64(step.made)
                produced += step.made
            }
            switch step.outcome {
            case .ended:
                return (produced, true)
            case .going:
                break
            case .corrupt(let reason):
                throw error(.corruptStream, "\(entryLabel(header)): deflate data is corrupt (\(reason)) "
                                + "after \(entryCompressed) compressed bytes")
            case .failed(let code):
                throw error(.corruptStream, "\(entryLabel(header)): inflate failed (zlib code \(code))")
            }
            if produced == out.count { return (produced, false) }
            // Room is left, so inflate stopped for want of input.
            if remaining != nil && header.compressedSize! == entryCompressed {
                throw error(.sizeMismatch, "\(entryLabel(header)): the deflate data goes on past the "
                                + "\(header.compressedSize!) compressed bytes its local header gives")
            }
            if produced > 0 { return (produced, false) }
            if input.available == 0, !(try input.refill()) {
                throw error(.truncated, "ends inside the deflate data of \(entryLabel(header)) "
                                + "after \(entryCompressed) compressed bytes")
            }
        }
    }

    private func copyStored(_ header: LocalHeader, size: Int64, into out: UnsafeMutableRawBufferPointer) throws -> (count: Int, ended: Bool) {
        if entryCompressed == size { return (0, true) }
        if input.available == 0, !(try input.refill()) {
            throw error(.truncated, "ends inside the stored data of \(entryLabel(header)) after \(entryCompressed) of \(size) bytes")
        }
        let count = min(input.available, out.count, Int(clamping: size - entryCompressed))
        emit(count, into: out)
        return (count, entryCompressed == size)
    }

    /// Copies `count` pending bytes of a stored entry into `out`, counted and checksummed.
    func emit(_ count: Int, into out: UnsafeMutableRawBufferPointer) {
        guard count > 0 else { return }
        let from = input.buffer.baseAddress! + input.position
        out.baseAddress!.copyMemory(from: from, byteCount: count)
        entryCRC = crc32(continuing: entryCRC, from, count: count)
        input.consume(count)
        entryCompressed += Int64(count)
        entryInflated += Int64(count)
    }

}
