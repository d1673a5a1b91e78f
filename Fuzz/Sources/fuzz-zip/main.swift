// A zip archive through ZipEntryReader (arc-check's and arc-convert's first reader of a
// downloaded object), fed in pieces and read in chunks whose sizes are drawn from the
// input's hash. Properties: no crash or hang; an error is a ZipError that names the
// archive on one line; an archive that reads gives the same bytes, entries and counts
// however it is fed and read; its first entry is entries[0]; inflatedBytes counts what
// read returned; the reader stays at its end (or its error) once there.
import FuzzSupport
import FuzzContainers
import ArcCore
@testable import ArcSilver

private struct Outcome: Equatable {
    var bytes: [UInt8] = []
    var entries: [String] = []
    var entryName: String?
    var compressed: Int64 = 0
    var code: String?
}

/// An entry that inflates past this is left unread (a small input can inflate 1000-fold).
private let outputLimit = 1 << 22

private func readArchive(_ input: [UInt8], pieces: [Int], chunk: Int, bufferSize: Int) -> Outcome? {
    let reader = ZipEntryReader(source: PieceSource(input, pieces: pieces), name: "fuzz.zip", bufferSize: bufferSize)
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 1)
    defer { buffer.deallocate() }
    var outcome = Outcome()
    do {
        guard let bytes = try readToEnd(reader, through: buffer, limit: outputLimit) else { return nil }
        outcome.bytes = bytes
        fuzzCheck(reader.inflatedBytes == Int64(outcome.bytes.count), "inflatedBytes \(reader.inflatedBytes), read \(outcome.bytes.count)")
        fuzzCheck(!reader.entries.isEmpty && reader.entryName == reader.entries[0],
                  "entries \(reader.entries) with entryName \(reader.entryName ?? "nil")")
        fuzzCheck((try? reader.read(into: buffer)) == 0, "a read after the end did not return 0")
    } catch let error as ZipError {
        checkContainerError(error, file: "fuzz.zip", reader: reader, buffer: buffer)
        outcome.code = error.code.rawValue
    } catch {
        fuzzFail("not a ZipError: \(error)")
    }
    outcome.entries = reader.entries
    outcome.entryName = reader.entryName
    outcome.compressed = reader.compressedBytes
    return outcome
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzZip(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = fuzzBytes(data, size)
    var choices = FuzzChoices(input)
    let small = [choices.int(1...9), choices.int(1...300), choices.int(1...5000)]
    let chunk = [1, 7, choices.int(1...70_000)][choices.int(0...2)]
    guard let whole = readArchive(input, pieces: [Int.max], chunk: 1 << 16, bufferSize: 1 << 20),
          let pieced = readArchive(input, pieces: small, chunk: chunk, bufferSize: choices.int(64...4096)) else { return 0 }
    // The same outcome, but a stored entry without a size and a cut archive may stop at
    // another place with the same code; what came out before the error must agree.
    if whole.code == nil || pieced.code == nil {
        fuzzCheck(whole == pieced, "fed whole: \(whole.code ?? "read") \(whole.bytes.count) bytes \(whole.entries); "
                      + "in pieces \(small), reads of \(chunk): \(pieced.code ?? "read") \(pieced.bytes.count) bytes \(pieced.entries)")
    } else {
        fuzzCheck(whole.code == pieced.code, "fed whole: \(whole.code!); in pieces \(small), reads of \(chunk): \(pieced.code!)")
    }
    return 0
}
