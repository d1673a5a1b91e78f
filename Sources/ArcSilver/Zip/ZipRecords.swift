/// The zip records the reader meets in order (APPNOTE 6.3.10, sections 4.3.7-4.3.16).
enum ZipSignature {
    static let local: UInt32 = 0x0403_4b50         // PK\3\4: local file header
    static let central: UInt32 = 0x0201_4b50       // PK\1\2: central directory header
    static let end: UInt32 = 0x0605_4b50           // PK\5\6: end of central directory
    static let zip64End: UInt32 = 0x0606_4b50      // PK\6\6: zip64 end of central directory
    static let zip64Locator: UInt32 = 0x0706_4b50  // PK\6\7: zip64 end locator
    static let descriptor: UInt32 = 0x0807_4b50    // PK\7\8: data descriptor (optional signature)
    static let extraData: UInt32 = 0x0806_4b50     // PK\6\8: archive extra data (encrypted directories)
    static let digitalSignature: UInt32 = 0x0505_4b50

    /// A record that may follow an entry's data: what confirms that a data descriptor
    /// was read where it really ends.
    static func followsEntry(_ signature: UInt32) -> Bool {
        signature == local || signature == central || signature == end || signature == zip64End
            || signature == extraData || signature == digitalSignature
    }
}

/// Marks a 32-bit size or offset whose value is in the zip64 extra field.
let zip64Marker: UInt32 = 0xFFFF_FFFF

/// What a local file header says about the entry after it.
struct LocalHeader {
    var name: String
    /// The archive offset of the header: the central directory names entries by it.
    var offset: Int64
    var flags: UInt16
    var method: UInt16
    var crc: UInt32
    /// Nil when general purpose bit 3 is set: the sizes come after the data.
    var compressedSize: Int64?
    var size: Int64?
    /// A zip64 extra field was present: a data descriptor has 8-byte sizes.
    var zip64: Bool

    var hasDescriptor: Bool { flags & 0x0008 != 0 }
    var encrypted: Bool { flags & 0x0041 != 0 }  // bit 0: encrypted; bit 6: strong encryption
}

/// An entry as its data turned out: what the central directory must agree with.
struct ReadEntry {
    var name: String
    var offset: Int64
    var crc: UInt32
    var compressedSize: Int64
    var size: Int64
}

/// Ways a data descriptor is laid out: with or without its signature, 4- or 8-byte sizes.
struct DescriptorLayout {
    var signed: Bool
    var wide: Bool
    var length: Int { (signed ? 4 : 0) + 4 + (wide ? 16 : 8) }

    /// The orders to try: the one the local header implies first.
    static func candidates(zip64: Bool) -> [DescriptorLayout] {
        let narrow = [DescriptorLayout(signed: true, wide: false), DescriptorLayout(signed: false, wide: false)]
        let wide = [DescriptorLayout(signed: true, wide: true), DescriptorLayout(signed: false, wide: true)]
        return zip64 ? wide + narrow : narrow + wide
    }
}

/// A field of a record, little-endian, from raw bytes.
@inline(__always)
func littleEndian16(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt16 {
    UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
}

@inline(__always)
func littleEndian32(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
    UInt32(littleEndian16(bytes, at)) | UInt32(littleEndian16(bytes, at + 2)) << 16
}

@inline(__always)
func littleEndian64(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt64 {
    UInt64(littleEndian32(bytes, at)) | UInt64(littleEndian32(bytes, at + 4)) << 32
}

/// The zip64 extended information extra field (0x0001) of a header's extra bytes: the
/// 8-byte values of the fields marked 0xFFFFFFFF, in the order size, compressed size,
/// offset. Nil when there is none.
func zip64Values(in extra: UnsafeRawBufferPointer) -> [UInt64]? {
    var at = 0
    while at + 4 <= extra.count {
        let id = littleEndian16(extra, at)
        let length = Int(littleEndian16(extra, at + 2))
        let body = at + 4
        guard body + length <= extra.count else { return nil }
        if id == 0x0001 {
            var values: [UInt64] = []
            var field = body
            while field + 8 <= body + length {
                values.append(littleEndian64(extra, field))
                field += 8
            }
            return values
        }
        at = body + length
    }
    return nil
}

/// Text for a message: printable ASCII as is, the rest as \xNN, cut at `limit` bytes.
func printable(_ bytes: UnsafeRawBufferPointer, limit: Int = 24) -> String {
    var text = ""
    for b in bytes.prefix(limit) {
        if b >= 0x20 && b < 0x7F && b != UInt8(ascii: "\\") { text.unicodeScalars.append(Unicode.Scalar(b)) } else {
            let hex = String(b, radix: 16)
            text += "\\x" + (hex.count == 1 ? "0" : "") + hex
        }
    }
    return bytes.count > limit ? text + "..." : text
}

/// A name from the archive in quotes for a one-line message: control characters, quotes
/// and backslashes escaped, long names cut.
func quoted(_ name: String) -> String {
    var text = "\""
    for scalar in name.unicodeScalars.prefix(200) {
        switch scalar {
        case "\"", "\\": text += "\\" + String(scalar)
        case _ where scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value)
                || scalar == "\u{2028}" || scalar == "\u{2029}":
            text += "\\u{" + String(scalar.value, radix: 16) + "}"
        default: text.unicodeScalars.append(scalar)
        }
    }
    return text + (name.unicodeScalars.count > 200 ? "...\"" : "\"")
}
