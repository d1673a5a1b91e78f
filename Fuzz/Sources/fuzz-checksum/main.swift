// What a source says about verifying an archive, and what arc-collect checks it with: a
// CHECKSUM sidecar (ChecksumFile.parse, SHA-256 or MD5), an archive record's checksum
// object (ArchiveChecksum.read, as a plugin may write anything), and a downloaded small
// gzip (EmptyGzip.holdsNothing). Properties: no crash; a parsed sidecar hash is the kind's
// lowercase hex and parses back the same; a checksum read from a record encodes and reads
// back equal, its value the kind's hex; only small inputs are ever taken for empty gzips.
import FuzzSupport
import ArcCore
import ArcCollect

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChecksum(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = fuzzBytes(data, size)

    for kind in [ArchiveChecksum.Kind.sha256, .md5] {
        if let hash = try? ChecksumFile.parse(input, url: "u", kind: kind) {
            fuzzCheck(hash.utf8.count == kind.hexLength && hash == hash.lowercased(), "parsed \(hash.debugDescription)")
            fuzzCheck((try? ChecksumFile.parse(Array((hash + "  a.zip").utf8), url: "u", kind: kind)) == hash,
                      "\(hash) does not parse back")
        }
    }

    for text in [String(decoding: input, as: UTF8.self), #"{"url":"http://h/a","checksum":"#
                 + String(decoding: input, as: UTF8.self) + "}"] {
        guard let record = try? Record(parsing: text), let checksum = try? ArchiveChecksum.read(from: record) else { continue }
        if let length = checksum.kind.hexLength, let value = checksum.value {
            fuzzCheck(value.utf8.count == length && value == value.lowercased(), "value \(value.debugDescription)")
        }
        if checksum.kind == .etagMD5 { fuzzCheck(checksum.value != nil, "etag-md5 without a value") }
        var b = RecordBuilder()
        b.begin()
        b.object("checksum") { checksum.encode(into: &$0) }
        b.end()
        let back = try? ArchiveChecksum.read(from: Record(parsing: String(decoding: b.bytes.dropLast(), as: UTF8.self)))
        fuzzCheck(back == checksum, "\(checksum) encoded and read back as \(String(describing: back))")
    }

    if EmptyGzip.holdsNothing(input) {
        fuzzCheck(!input.isEmpty && input.count <= EmptyGzip.sizeLimit, "\(input.count) bytes taken for an empty gzip")
    }
    return 0
}
