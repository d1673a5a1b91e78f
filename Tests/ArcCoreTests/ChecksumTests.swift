import XCTest
import CChecksum
@testable import ArcCore

/// The CRCs s3x verifies with: known values, the hardware path against the table, the
/// combination of pieces, and S3's spellings (base64 big-endian, `-N` composites).
final class ChecksumTests: XCTestCase {
    func testKnownValues() {
        // The check values of the CRC catalogue: CRC-32C and CRC-32 of "123456789".
        let text = Array("123456789".utf8)
        XCTAssertEqual(CRCValue.of(.crc32c, text).value, 0xE306_9283)
        XCTAssertEqual(CRCValue.of(.crc32, text).value, 0xCBF4_3926)
        XCTAssertEqual(CRCValue.of(.crc32c, []).value, 0)
        // S3's spelling: base64 of the big-endian bytes (python: base64 of crc.to_bytes(4, "big")).
        XCTAssertEqual(CRCValue.of(.crc32c, text).base64, "4waSgw==")
    }

    func testTheHardwarePathAgreesWithTheTableAtEveryAlignmentAndLength() {
        let bytes = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 9) }
        bytes.withUnsafeBytes { raw in
            for start in 0..<9 {
                for length in [0, 1, 7, 8, 9, 63, 64, 65, 4000] {
                    let piece = UnsafeRawBufferPointer(rebasing: raw[start..<start + length])
                    let table = arc_crc32c_portable(0, piece.baseAddress!.assumingMemoryBound(to: UInt8.self), length)
                    XCTAssertEqual(arc_crc32c(0, piece.baseAddress, length), table, "start \(start), length \(length)")
                }
            }
        }
    }

    func testPiecesCombineIntoTheWhole() {
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 40_503 >> 5) }
        for algorithm in ChecksumAlgorithm.allCases {
            let whole = CRCValue.of(algorithm, bytes)
            for cuts in [[0, 100_000], [0, 1, 100_000], [0, 33_333, 66_666, 99_999, 100_000], [0, 50_000, 50_000, 100_000]] {
                let pieces = zip(cuts, cuts.dropFirst()).map { CRCValue.of(algorithm, Array(bytes[$0..<$1])) }
                let combined = pieces.reduce(CRCValue(algorithm)) { $0.followed(by: $1) }
                XCTAssertEqual(combined.value, whole.value, "\(algorithm) cut at \(cuts)")
                XCTAssertEqual(combined.length, 100_000)
            }
            // A streaming digest fed in pieces is the same.
            let digest = CRCDigest(algorithm)
            bytes.withUnsafeBytes { raw in
                digest.update(UnsafeRawBufferPointer(rebasing: raw[0..<12_345]))
                digest.update(UnsafeRawBufferPointer(rebasing: raw[12_345...]))
            }
            XCTAssertEqual(digest.value, whole)
        }
    }

    func testCompositeAndStoredSpellings() {
        // python: crc32c(b"".join(crc32c(p).to_bytes(4, "big") for p in parts)), "-2"
        let parts = [CRCValue.of(.crc32c, Array("abc".utf8)), CRCValue.of(.crc32c, Array("def".utf8))]
        let composite = CRCValue.composite(parts)
        XCTAssertEqual(composite, CRCValue.of(.crc32c, parts[0].bytes + parts[1].bytes).base64 + "-2")
        let stored = StoredChecksum(algorithm: .crc32c, text: composite)
        XCTAssertEqual(stored?.parts, 2)
        XCTAssertEqual(stored?.text, composite)
        XCTAssertEqual(StoredChecksum(algorithm: .crc32, text: "AKJc2A==")?.parts, nil)
        XCTAssertNil(StoredChecksum(algorithm: .crc32, text: "x-y-z"))

        var headers = ResponseHeaders()
        XCTAssertTrue(headers.takeChecksum(name: "x-amz-checksum-crc32c", value: "OhvI2A==-3"))
        XCTAssertTrue(headers.takeChecksum(name: "x-amz-checksum-algorithm", value: "CRC32C"))
        XCTAssertTrue(headers.takeChecksum(name: "x-amz-checksum-type", value: "COMPOSITE"))
        XCTAssertEqual(headers.checksum, StoredChecksum(algorithm: .crc32c, value: "OhvI2A==", parts: 3))
        XCTAssertEqual(headers.checksumAlgorithm, .crc32c)
    }
}
