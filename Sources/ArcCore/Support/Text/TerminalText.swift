extension String {
    /// The text with its control characters shown escaped (`\n`, `\t`, `\r`, `\x1b`...), for
    /// writing to a terminal text that other programs wrote (log lines, span names from any
    /// OTLP client): a newline would break rows and ESC would drive the terminal.
    public var controlCharactersEscaped: String {
        guard unicodeScalars.contains(where: \.isControlCharacter) else { return self }
        var out = ""
        for u in unicodeScalars {
            switch u {
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where u.isControlCharacter: out += "\\x" + String(u.value, radix: 16)
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }
}

extension Unicode.Scalar {
    /// C0 controls and DEL (C1 controls are left alone: terminals in UTF-8 mode ignore them).
    fileprivate var isControlCharacter: Bool { value < 0x20 || value == 0x7F }
}
