import XCTest
@testable import ArcSilver
import Glibc

final class FieldParsingTests: XCTestCase {
    func double(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { b -> Double? in
            guard let base = b.baseAddress, let (v, stop) = FieldParsing.double(base, base + b.count), stop == base + b.count
            else { return nil }
            return v
        }
    }

    func int(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { b -> Int64? in
            guard let base = b.baseAddress, let (v, stop) = FieldParsing.int64(base, base + b.count), stop == base + b.count
            else { return nil }
            return v
        }
    }

    func strtodOf(_ text: String) -> Double { text.withCString { strtod($0, nil) } }

    /// Equal bit for bit (so -0.0 and 0.0 differ).
    func assertSame(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let ours = double(text) else { return XCTFail("did not parse \(text)", file: file, line: line) }
        let theirs = strtodOf(text)
        XCTAssertEqual(ours.bitPattern, theirs.bitPattern, "\(text): \(ours) vs strtod \(theirs)", file: file, line: line)
        XCTAssertEqual(ours.bitPattern, Double(text)!.bitPattern, text, file: file, line: line)
    }

    func testDecimalsEqualStrtodOnManyRandomStrings() {
        var rng = SystemRandomNumberGenerator()
        var fallbacks = 0
        for n in 0..<100_000 {
            let intDigits = Int.random(in: 0...(n % 3 == 0 ? 24 : 10), using: &rng)
            let fracDigits = Int.random(in: 0...(n % 5 == 0 ? 30 : 10), using: &rng)
            var text = Bool.random(using: &rng) && n % 7 == 0 ? "-" : ""
            text += String((0..<intDigits).map { _ in Character(String(Int.random(in: 0...9, using: &rng))) })
            if fracDigits > 0 || intDigits == 0 {
                text += "." + String((0..<max(fracDigits, intDigits == 0 ? 1 : 0)).map { _ in Character(String(Int.random(in: 0...9, using: &rng))) })
            }
            if n % 11 == 0 { text += "e" + String(Int.random(in: -330...310, using: &rng)) }
            assertSame(text)
            if text.filter(\.isNumber).count > 19 { fallbacks += 1 }
        }
        XCTAssertGreaterThan(fallbacks, 300) // the strtod path was exercised too
    }

    func testDecimalsLikeBinanceWritesThem() {
        for text in ["97550.01000000", "0.00020000", "0", "0.0", "-0.0", "1.", ".5", "42000.1", "0.00000001",
                     "123456789012345.6", "9007199254740993", "9007199254740992.5", "1e22", "1e23", "1.5E-7",
                     "-0.0001234", "+3.25", "17976931348623157e292", "2.2250738585072011e-308", "1e-400", "1e400"] {
            assertSame(text)
        }
    }

    func testNonDecimalsAreRefused() {
        for text in ["", "-", ".", "e5", "1e", "1e+", "nan", "inf", "0x10", " 1", "1 ", "1,5", "--1", "1.2.3", "True"] {
            XCTAssertNil(double(text), text)
        }
    }

    func testIntegers() {
        XCTAssertEqual(int("0"), 0)
        XCTAssertEqual(int("3261437102"), 3_261_437_102)
        XCTAssertEqual(int("-42"), -42)
        XCTAssertEqual(int("9223372036854775807"), Int64.max)
        XCTAssertEqual(int("-9223372036854775808"), Int64.min)
        for text in ["9223372036854775808", "99999999999999999999", "", "-", "1.0", "1e3", "+1", "12a"] {
            XCTAssertNil(int(text), text)
        }
    }

    func testIntegersEqualSwiftsOnRandomStringsOfEveryLength() {
        var rng = SystemRandomNumberGenerator()
        for n in 0..<50_000 {
            let length = n % 22
            var text = n % 9 == 0 ? "-" : ""
            text += String((0..<length).map { _ in Character(String(Int.random(in: 0...9, using: &rng))) })
            if n % 13 == 0, length > 0 { // a non-digit somewhere, to be stopped at
                let at = text.index(text.startIndex, offsetBy: Int.random(in: 0..<text.count, using: &rng))
                text.replaceSubrange(at...at, with: "x")
            }
            XCTAssertEqual(int(text), Int64(text), text)
        }
    }

    func testEightDigitsAtATimeStopAtTheFirstNonDigit() {
        for text in ["12345678", "1234567x", "x2345678", "123456789012345678", "12345678.12345678", "00000000.00000001",
                     "99999999/", "9999999:", "1234567812345678x"] {
            let bytes = Array(text.utf8)
            bytes.withUnsafeBufferPointer { b in
                let base = b.baseAddress!
                let digits = bytes.prefix { $0 >= 48 && $0 <= 57 }.count
                let ours = FieldParsing.int64(base, base + b.count)
                XCTAssertEqual(ours.map { $0.1 - base }, digits == 0 ? nil : digits, text)
                XCTAssertEqual(ours?.0, Int64(String(text.prefix(digits))), text)
                let number = bytes.prefix { ($0 >= 48 && $0 <= 57) || $0 == UInt8(ascii: ".") }.count
                let d = FieldParsing.double(base, base + b.count)
                XCTAssertEqual(d.map { $0.1 - base }, number == 0 ? nil : number, text)
                XCTAssertEqual(d?.0, Double(String(text.prefix(number))), text)
            }
        }
    }

    func testBooleansAndTextTimes() {
        for (text, value) in [("True", true), ("true", true), ("False", false), ("false", false)] {
            let bytes = Array(text.utf8)
            bytes.withUnsafeBufferPointer { b in
                let r = FieldParsing.boolean(b.baseAddress!, b.baseAddress! + b.count)
                XCTAssertEqual(r?.0, value)
                XCTAssertEqual(r?.1, b.baseAddress! + b.count)
            }
        }
        func time(_ text: String) -> Int64? {
            let bytes = Array(text.utf8)
            return bytes.withUnsafeBufferPointer { b in
                guard let (v, stop) = FieldParsing.textTime(b.baseAddress!, b.baseAddress! + b.count), stop == b.baseAddress! + b.count
                else { return nil }
                return v
            }
        }
        XCTAssertEqual(time("2024-03-01 00:05:00"), micros("2024-03-01", 0, 5))
        XCTAssertEqual(time("2024-02-29 23:59:59"), micros("2024-02-29", 23, 59, 59))
        XCTAssertEqual(time("2024-03-01"), micros("2024-03-01"))
        XCTAssertEqual(time("2024-03-01 00:00:01.5"), micros("2024-03-01", 0, 0, 1) + 500_000)
        for bad in ["2023-02-29 00:00:00", "2024-13-01 00:00:00", "2024-03-01 24:00:00", "2024-03-01 1:00:00", "20240301"] {
            XCTAssertNil(time(bad), bad)
        }
    }
}
