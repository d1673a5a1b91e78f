// One NDJSON line through the record scanner (JSONScanner, Record), as every tool reads
// its input, and the same bytes as a JSON document through JSONValue (OTLP bodies, AWS
// credential helpers' output). Properties: no crash; offsets inside the line and in order;
// every value re-scans as what its kind says; strings and keys survive escaping;
// RecordBuilder copies members into a line that scans to the same members;
// JSONText.parseInt agrees with Int64(String); JSONValue agrees with Record on objects and
// reads its own writing back; and Foundation's JSON parser (a second opinion) agrees on
// what is JSON.
import Foundation
import FuzzSupport
@testable import ArcCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNDJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = fuzzBytes(data, size)
    let record: Record?
    do {
        record = try input.withUnsafeBufferPointer { try Record(line: $0) }
    } catch let e as JSONSyntaxError {
        fuzzCheck(e.offset >= 0 && e.offset <= input.count, "error offset \(e.offset) outside a \(input.count)-byte line")
        record = nil
    } catch {
        fuzzFail("Record(line:) threw \(error), not a JSONSyntaxError")
    }
    if let record { check(record, input) }
    compareWithFoundation(input, accepted: record != nil)
    let value = try? JSONValue(parsing: input)
    if let record {
        guard let members = value?.members else { fuzzFail("a record is not a JSONValue object") }
        fuzzCheck(members.map(\.key) == record.fields.map(record.keyText), "JSONValue and Record disagree on the keys")
        for (m, f) in zip(members, record.fields) where f.kind == .string {
            fuzzCheck(m.value == .string(record.stringValue(f)), "JSONValue and Record disagree on \(m.key)")
        }
    } else {
        fuzzCheck(value?.members == nil, "JSONValue reads an object the record scanner refuses")
    }
    if let value {
        var text: [UInt8] = []
        write(value, into: &text)
        fuzzCheck((try? JSONValue(parsing: text)) == value, "JSONValue does not read its own writing back: \(fuzzShow(text))")
    }
    compareWithFoundation(input, accepted: value != nil, fragments: true)
    return 0
}

/// JSON text for a value: strings escaped by JSONText, numbers as written.
private func write(_ v: JSONValue, into out: inout [UInt8]) {
    switch v {
    case .null: out += Array("null".utf8)
    case .bool(let b): out += Array((b ? "true" : "false").utf8)
    case .number(let text): out += Array(text.utf8)
    case .string(let s): JSONText.appendQuoted(s, to: &out)
    case .array(let items):
        out.append(UInt8(ascii: "["))
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            write(item, into: &out)
        }
        out.append(UInt8(ascii: "]"))
    case .object(let members):
        out.append(UInt8(ascii: "{"))
        for (i, m) in members.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONText.appendQuoted(m.key, to: &out)
            out.append(UInt8(ascii: ":"))
            write(m.value, into: &out)
        }
        out.append(UInt8(ascii: "}"))
    }
}

private func check(_ r: Record, _ input: [UInt8]) {
    fuzzCheck(r.bytes == input, "the record's bytes are not the line")
    var previousEnd: Int32 = 0
    for f in r.fields {
        fuzzCheck(f.keyStart >= 1 && f.keyStart <= f.keyEnd && f.keyEnd < f.valueStart && f.valueStart < f.valueEnd
                  && Int(f.valueEnd) <= input.count && f.keyStart > previousEnd,
                  "field offsets out of order: \(f)")
        previousEnd = f.valueEnd
        fuzzCheck(input[Int(f.keyStart) - 1] == UInt8(ascii: "\"") && input[Int(f.keyEnd)] == UInt8(ascii: "\""),
                  "a key is not between quotes")
        let raw = Array(r.raw(f))
        let first = raw[0]
        switch f.kind {
        case .string: fuzzCheck(first == UInt8(ascii: "\"") && raw.last == UInt8(ascii: "\"") && raw.count >= 2, "string kind")
        case .object: fuzzCheck(first == UInt8(ascii: "{") && raw.last == UInt8(ascii: "}"), "object kind")
        case .array: fuzzCheck(first == UInt8(ascii: "[") && raw.last == UInt8(ascii: "]"), "array kind")
        case .bool: fuzzCheck(raw == Array("true".utf8) || raw == Array("false".utf8), "bool kind")
        case .null: fuzzCheck(raw == Array("null".utf8), "null kind")
        case .number: fuzzCheck(first == UInt8(ascii: "-") || (first >= 48 && first <= 57), "number kind")
        }
        // The value alone, as a member of a new object, scans to the same kind.
        let wrapped = Array(#"{"v":"#.utf8) + raw + [UInt8(ascii: "}")]
        guard let again = try? Record(parsing: String(decoding: wrapped, as: UTF8.self)), again.fields.count == 1 else {
            fuzzFail("the value \(fuzzShow(raw)) does not scan on its own")
        }
        fuzzCheck(again.fields[0].kind == f.kind && again.fields[0].valueEscaped == f.valueEscaped, "kind changed on its own")
        if f.kind == .object {
            fuzzCheck((try? raw.withUnsafeBufferPointer { try Record(line: $0) }) != nil, "a nested object does not scan")
        }
        if f.kind == .number {
            let text = String(decoding: raw, as: UTF8.self)
            fuzzCheck(Double(text) != nil, "number \(text) is not a Double")
            if !raw.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
                fuzzCheck(JSONText.parseInt(raw[...]) == Int64(text), "parseInt(\(text)) disagrees with Int64(String)")
            }
        }
        // Keys and strings survive escaping and unescaping.
        let key = r.keyText(f)
        roundTrip(key)
        if f.kind == .string { roundTrip(r.stringValue(f)) }
        // Lookup by key finds the last member with that key.
        guard let found = r.field(key) else { fuzzFail("field(\(key)) not found") }
        fuzzCheck(r.keyText(found) == key, "field(\(key)) found another key")
        fuzzCheck(!r.fields.contains { $0.valueStart > found.valueStart && r.keyText($0) == key }, "field(\(key)) is not the last")
        _ = try? r.string(key)
        _ = try? r.int(key)
        _ = try? r.double(key)
        _ = try? r.bool(key)
        var out: [UInt8] = []
        _ = try? r.appendString(key, to: &out)
    }

    // RecordBuilder copies members byte for byte: the copy scans to the same members.
    var b = RecordBuilder()
    b.begin()
    b.copyFields(of: r)
    b.string("added", "x")
    b.end()
    fuzzCheck(b.bytes.last == 0x0A, "a built record does not end with a newline")
    let copy = rescan(Array(b.bytes.dropLast()))
    fuzzCheck(copy.fields.count == r.fields.count + 1, "copyFields lost members")
    for (a, c) in zip(r.fields, copy.fields) {
        fuzzCheck(r.keyText(a) == copy.keyText(c) && r.raw(a).elementsEqual(copy.raw(c)), "copyFields changed a member")
    }
    if let first = r.fields.first {
        let key = r.keyText(first)
        b.begin()
        b.copyFields(of: r, except: [key])
        b.end()
        let kept = rescan(Array(b.bytes.dropLast()))
        fuzzCheck(kept.fields.count == r.fields.filter { r.keyText($0) != key }.count, "copyFields(except:) kept the wrong members")
    }
}

private func rescan(_ line: [UInt8]) -> Record {
    do { return try line.withUnsafeBufferPointer { try Record(line: $0) } } catch {
        fuzzFail("RecordBuilder wrote a line that does not scan: \(error): \(fuzzShow(line))")
    }
}

private func roundTrip(_ s: String) {
    var quoted: [UInt8] = []
    JSONText.appendQuoted(s, to: &quoted)
    let back = JSONText.unescape(quoted.dropFirst().dropLast())
    fuzzCheck(back == s, "escape/unescape changed \(fuzzShow(Array(s.utf8))) into \(fuzzShow(Array(back.utf8)))")
    let line = Array(#"{"k":"#.utf8) + quoted + [UInt8(ascii: "}")]
    fuzzCheck((try? line.withUnsafeBufferPointer { try Record(line: $0) }) != nil, "an escaped string does not scan: \(fuzzShow(line))")
}

/// Where the scanner and Foundation may differ by design: the scanner does not check that
/// \u escapes pair surrogates (RFC 8259 allows them; they read as U+FFFD), Foundation
/// refuses numbers a Double cannot hold, takes trailing commas and stops reading at a NUL,
/// and the scanner stops nesting at 256.
private func compareWithFoundation(_ input: [UInt8], accepted: Bool, fragments: Bool = false) {
    let parsed = try? JSONSerialization.jsonObject(with: Data(input), options: fragments ? [.fragmentsAllowed] : [])
    let object: Any? = fragments ? parsed : parsed as? [String: Any]
    if accepted == (object != nil) { return }
    let text = String(decoding: input, as: UTF8.self).lowercased()
    let exponent = zip(input, input.dropFirst()).contains { a, b in (a >= 48 && a <= 57) && (b | 0x20) == UInt8(ascii: "e") }
    let squeezed = input.filter { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
    let trailingComma = zip(squeezed, squeezed.dropFirst()).contains { a, b in
        a == UInt8(ascii: ",") && (b == UInt8(ascii: "}") || b == UInt8(ascii: "]"))
    }
    if text.contains("\\ud") || exponent || trailingComma || input.contains(0) || input.filter({ $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "{") }).count >= 256 {
        return
    }
    fuzzFail(accepted ? "the scanner accepts what Foundation refuses: \(fuzzShow(input))"
                      : "Foundation accepts \(fragments ? "JSON" : "an object") the scanner refuses: \(fuzzShow(input))")
}
