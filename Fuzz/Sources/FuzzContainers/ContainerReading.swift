// What fuzz-zip and fuzz-gzip share: the input fed to a container reader (ZipEntryReader,
// GzipReader) in pieces, read in chunks, and the properties of a ContainerError.
import FuzzSupport
import ArcCore
import ArcSilver

/// The input handed out in pieces of the given sizes in turn.
public final class PieceSource: ByteSource {
    private let bytes: [UInt8]
    private let pieces: [Int]
    private var offset = 0
    private var turn = 0

    public init(_ bytes: [UInt8], pieces: [Int]) {
        self.bytes = bytes
        self.pieces = pieces
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, bytes.count - offset, pieces[turn % pieces.count])
        turn += 1
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
        offset += count
        return count
    }
}

/// Everything `reader` gives through reads into `buffer`, until a read returns 0; nil
/// once it passes `limit` bytes (a small input can inflate 1000-fold).
public func readToEnd(_ reader: ByteSource, through buffer: UnsafeMutableRawBufferPointer, limit: Int) throws -> [UInt8]? {
    var bytes: [UInt8] = []
    while true {
        let n = try reader.read(into: buffer)
        if n == 0 { return bytes }
        bytes.append(contentsOf: buffer[0..<n])
        if bytes.count > limit { return nil }
    }
}

/// A reader's error names the file on one line, and every later read throws it again.
public func checkContainerError<Format>(_ error: ContainerError<Format>, file: String, reader: ByteSource,
                                        buffer: UnsafeMutableRawBufferPointer) {
    let text = error.description
    fuzzCheck(text.hasPrefix("\(file): ") && !text.contains("\n"), "a message that does not name the file on one line: \(text)")
    do {
        _ = try reader.read(into: buffer)
        fuzzFail("a read after \(error.code) did not throw it again")
    } catch let again as ContainerError<Format> {
        fuzzCheck(again.code == error.code, "a read after \(error.code) threw \(again.code)")
    } catch {
        fuzzFail("a read after \(error) threw \(error)")
    }
}
