import ArcCore

/// An attribute value as stored: a scalar, or (from OTLP) an array or nested object.
indirect enum AttributeValue: Sendable {
    case scalar(LogValue)
    case array([AttributeValue])
    case object([(String, AttributeValue)])

    func write(into out: inout [UInt8]) {
        switch self {
        case .scalar(let v):
            switch v {
            case .string(let s): JSONText.appendQuoted(s, to: &out)
            case .int(let i): out.append(contentsOf: Array(String(i).utf8))
            case .double(let d): out.append(contentsOf: Array((d.isFinite ? String(d) : "null").utf8))
            case .bool(let b): out.append(contentsOf: Array((b ? "true" : "false").utf8))
            }
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out += AttributeValue.object(members)
        }
    }

    /// `{"k":v,...}` as bytes.
    static func object(_ members: [(String, AttributeValue)]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (i, (key, value)) in members.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONText.appendQuoted(key, to: &out)
            out.append(UInt8(ascii: ":"))
            value.write(into: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}
