// An env_file (dotenv) through DotEnv.parse, as wf-run reads it when a run starts.
// Properties: no crash; an error names the file and a line inside it and never quotes a
// value; every pair read has a valid name; written back as KEY='value' (single quotes,
// for values without a quote) it reads back the same.
import FuzzSupport
@testable import ArcWorkflow
@testable import ArcCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDotEnv(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = fuzzBytes(data, size)
    guard let text = String(validating: input, as: UTF8.self) else { return 0 }
    let pairs: [(String, String)]
    do { pairs = try DotEnv.parse(text, file: "fuzz.env") } catch {
        let message = "\(error)"
        fuzzCheck(message.hasPrefix("fuzz.env:"), "an error that does not name the file: \(message)")
        return 0
    }
    for (name, _) in pairs {
        fuzzCheck(!name.isEmpty && name.utf8.allSatisfy { $0 == UInt8(ascii: "_") || ($0 | 0x20 >= 97 && $0 | 0x20 <= 122)
                                                            || ($0 >= 48 && $0 <= 57) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") },
                  "a name no shell could set: \(name.debugDescription)")
    }
    // Single quotes cannot hold a quote; a CR before a newline is read as a CRLF line end.
    let simple = pairs.filter { !$0.1.contains("'") && !$0.1.unicodeScalars.contains("\r") }
    let written = simple.map { "\($0.0)='\($0.1)'" }.joined(separator: "\n")
    do {
        let back = try DotEnv.parse(written, file: "again.env")
        fuzzCheck(back.count == simple.count && zip(back, simple).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 },
                  "written back it read differently:\n\(written.debugDescription)")
    } catch {
        fuzzFail("its own writing does not parse: \(error)\n\(written.debugDescription)")
    }
    return 0
}
