// A gzip file through GzipReader (arc-check's and arc-convert's reader of Bybit's csv.gz),
// fed in pieces and read in chunks whose sizes are drawn from the input's hash.
// Properties: no crash or hang; an error is a GzipError that names the file on one line;
// a file that reads gives the same bytes and member count however it is fed and read, and
// they are zlib's own reading of it (inflate with a gzip wrapper, member after member);
// inflatedBytes counts what read returned; the reader stays at its end (or its error).
import FuzzSupport
import FuzzContainers
import ArcCore
@testable import ArcSilver

private struct Outcome: Equatable {
    var bytes: [UInt8] = []
    var members = 0
    var entryName: String?
    var code: String?
}

/// A file that inflates past this is left unread (a small input can inflate 1000-fold).
private let outputLimit = 1 << 22

private func readGzip(_ input: [UInt8], pieces: [Int], chunk: Int, bufferSize: Int) -> Outcome? {
    let reader = GzipReader(source: PieceSource(input, pieces: pieces), name: "fuzz.csv.gz", bufferSize: bufferSize)
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 1)
    defer { buffer.deallocate() }
    var outcome = Outcome()
    do {
        guard let bytes = try readToEnd(reader, through: buffer, limit: outputLimit) else { return nil }
        outcome.bytes = bytes
        fuzzCheck(reader.inflatedBytes == Int64(outcome.bytes.count), "inflatedBytes \(reader.inflatedBytes), read \(outcome.bytes.count)")
        fuzzCheck(reader.members >= 1, "a file read with no member")
        fuzzCheck((try? reader.read(into: buffer)) == 0, "a read after the end did not return 0")
    } catch let error as GzipError {
        checkContainerError(error, file: "fuzz.csv.gz", reader: reader, buffer: buffer)
        outcome.code = error.code.rawValue
        outcome.bytes = []
    } catch {
        fuzzFail("not a GzipError: \(error)")
    }
    outcome.members = reader.members
    outcome.entryName = reader.entryName
    return outcome
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGzip(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = fuzzBytes(data, size)
    var choices = FuzzChoices(input)
    let small = [choices.int(1...9), choices.int(1...300), choices.int(1...5000)]
    let chunk = [1, 7, choices.int(1...70_000)][choices.int(0...2)]
    guard let whole = readGzip(input, pieces: [Int.max], chunk: 1 << 16, bufferSize: 1 << 20),
          let pieced = readGzip(input, pieces: small, chunk: chunk, bufferSize: choices.int(64...4096)) else { return 0 }
    fuzzCheck(whole == pieced, "fed whole: \(whole.code ?? "read") \(whole.bytes.count) bytes, \(whole.members) members; "
                  + "in pieces \(small), reads of \(chunk): \(pieced.code ?? "read") \(pieced.bytes.count) bytes, \(pieced.members) members")
    // What reads is what zlib reads; zlib may read a little more (it takes reserved header
    // flags and long names, and ignores a trailer's bytes past the last member's end).
    if whole.code == nil, whole.bytes.count < outputLimit {
        // zlib's own reading: inflate with a gzip wrapper, member after member (ArcCore's Gzip).
        fuzzCheck(Gzip.decompress(input, maxOutput: outputLimit, header: .gzip, everyMember: true) == whole.bytes,
                  "read \(whole.bytes.count) bytes that zlib reads otherwise")
    }
    return 0
}
