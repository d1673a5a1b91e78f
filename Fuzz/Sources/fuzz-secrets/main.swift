// Any text a tool might log (a message, a field, an error quoting a URL) through
// Secrets.redact. Properties: no crash; masking twice changes nothing more than once; a
// registered secret never survives; text without '@', '=', ':' or a secret comes back as
// it was; a URL password or a credential parameter planted into the text is masked.
import FuzzSupport
import ArcCore

private let planted = "PlantedSecret-0123456789"
private let registered: Void = Secrets.register(planted)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSecrets(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    _ = registered
    let input = fuzzBytes(data, size)
    let text = String(decoding: input, as: UTF8.self)
    let once = Secrets.redact(text)
    fuzzCheck(Secrets.redact(once) == once, "masking again changed it: \(once.debugDescription)")
    if !text.utf8.contains(where: { $0 == UInt8(ascii: "@") || $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: ":") }) {
        fuzzCheck(once == text || text.contains(planted), "text with nothing to mask changed: \(text.debugDescription)")
    }
    var choices = FuzzChoices(input)
    let cut = text.unicodeScalars.count == 0 ? 0 : choices.int(0...text.unicodeScalars.count)
    let head = String(String.UnicodeScalarView(text.unicodeScalars.prefix(cut)))
    let tail = String(String.UnicodeScalarView(text.unicodeScalars.dropFirst(cut)))
    for plant in [planted, " https://u:\(planted)@host/x ", " http://h/p?X-Amz-Signature=\(planted)&a=1 ",
                  " Authorization: Bearer \(planted)\n"] {
        let masked = Secrets.redact(head + plant + tail)
        fuzzCheck(!masked.contains(planted), "a planted secret survived: \(masked.debugDescription)")
    }
    return 0
}
