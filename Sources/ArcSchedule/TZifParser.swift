import ArcCore

/// Reads TZif files (RFC 8536, versions 1 to 4). Version 2 and later repeat the data with
/// 64-bit times after the version 1 block; that block is the one used, so times past 2038
/// work, and the footer's POSIX TZ string is parsed for times after the last transition.
/// Leap-second records are skipped: zoneinfo's "right/" files are not for wall clocks.
enum TZifParser {
    static func parse(_ bytes: [UInt8], name: String) throws -> TimeZoneRules {
        var reader = ByteReader(bytes: bytes, name: name)
        let first = try reader.header()
        guard first.version >= 2 else {
            return try assemble(try reader.dataBlockParts(first, timeSize: 4), name: name, footer: nil)
        }
        try reader.skip(first.dataLength(timeSize: 4))
        let second = try reader.header()
        let block = try reader.dataBlockParts(second, timeSize: 8)
        let footer = try reader.footer()
        return try assemble(block, name: name, footer: footer)
    }

    struct Header {
        let version: Int
        let isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt: Int

        func dataLength(timeSize: Int) -> Int {
            timecnt * timeSize + timecnt + typecnt * 6 + charcnt + leapcnt * (timeSize + 4) + isstdcnt + isutcnt
        }
    }

    struct DataBlock {
        var transitions: [Int64] = []
        var transitionTypes: [UInt8] = []
        var types: [TimeZoneRules.LocalTimeType] = []
    }

    static func assemble(_ block: DataBlock, name: String, footer: String?) throws -> TimeZoneRules {
        var rule: PosixTimeZoneRule?
        if let footer, !footer.isEmpty {
            guard let parsed = PosixTimeZoneRule(footer) else {
                throw TimeZoneError.malformed(name, "footer \"\(footer)\" is not a POSIX TZ rule")
            }
            rule = parsed
        }
        return TimeZoneRules(name: name, transitions: block.transitions, transitionTypes: block.transitionTypes,
                             types: block.types, footer: rule)
    }

    struct ByteReader {
        let bytes: [UInt8]
        let name: String
        var position = 0

        init(bytes: [UInt8], name: String) {
            self.bytes = bytes
            self.name = name
        }

        mutating func skip(_ count: Int) throws {
            guard count >= 0, position + count <= bytes.count else { throw truncated() }
            position += count
        }

        mutating func byte() throws -> UInt8 {
            guard position < bytes.count else { throw truncated() }
            position += 1
            return bytes[position - 1]
        }

        /// A big-endian signed integer of `size` bytes (4 or 8).
        mutating func integer(_ size: Int) throws -> Int64 {
            guard position + size <= bytes.count else { throw truncated() }
            var value: UInt64 = 0
            for i in 0..<size { value = value << 8 | UInt64(bytes[position + i]) }
            position += size
            if size == 4 { return Int64(Int32(bitPattern: UInt32(truncatingIfNeeded: value))) }
            return Int64(bitPattern: value)
        }

        mutating func header() throws -> Header {
            // "TZif" (magic)
            guard position + 44 <= bytes.count, bytes[position..<position + 4].elementsEqual([0x54, 0x5A, 0x69, 0x66])
            else { throw TimeZoneError.unknown(name) }
            let versionByte = bytes[position + 4]
            let version = versionByte == 0 ? 1 : Int(versionByte) - 48
            try skip(20)
            var counts: [Int] = []
            for _ in 0..<6 {
                let count = try integer(4)
                guard count >= 0, count < 1 << 20 else { throw TimeZoneError.malformed(name, "bad header count") }
                counts.append(Int(count))
            }
            guard counts[4] >= 1 else { throw TimeZoneError.malformed(name, "no local time types") }
            return Header(version: max(1, version), isutcnt: counts[0], isstdcnt: counts[1], leapcnt: counts[2],
                          timecnt: counts[3], typecnt: counts[4], charcnt: counts[5])
        }

        mutating func dataBlockParts(_ h: Header, timeSize: Int) throws -> DataBlock {
            var block = DataBlock()
            for _ in 0..<h.timecnt { block.transitions.append(try integer(timeSize)) }
            // RFC 8536: strictly ascending. Lookups search them by halves; out of order they mislead.
            guard zip(block.transitions, block.transitions.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw TimeZoneError.malformed(name, "transition times out of order")
            }
            for _ in 0..<h.timecnt {
                let index = try byte()
                guard Int(index) < h.typecnt else { throw TimeZoneError.malformed(name, "bad type index") }
                block.transitionTypes.append(index)
            }
            var raw: [(utoff: Int32, isDST: Bool, abbreviationIndex: Int)] = []
            for _ in 0..<h.typecnt {
                let utoff = Int32(truncatingIfNeeded: try integer(4))
                // RFC 8536's range (-25 h, +26 h): mapping local times to instants relies on it.
                guard (-89_999...93_599).contains(utoff) else { throw TimeZoneError.malformed(name, "UT offset \(utoff) out of range") }
                let isDST = try byte() != 0
                raw.append((utoff, isDST, Int(try byte())))
            }
            let chars = Array(bytes[position..<min(bytes.count, position + h.charcnt)])
            try skip(h.charcnt)
            block.types = raw.map {
                TimeZoneRules.LocalTimeType(utoff: $0.utoff, isDST: $0.isDST,
                                            abbreviation: Self.string(in: chars, at: $0.abbreviationIndex))
            }
            try skip(h.leapcnt * (timeSize + 4) + h.isstdcnt + h.isutcnt)
            return block
        }

        /// The text between the two newlines that end a version 2+ file.
        mutating func footer() throws -> String {
            guard try byte() == 10 else { throw TimeZoneError.malformed(name, "no footer") }
            var text: [UInt8] = []
            while true {
                let b = try byte()
                if b == 10 { return String(decoding: text, as: UTF8.self) }
                text.append(b)
            }
        }

        static func string(in chars: [UInt8], at index: Int) -> String {
            guard index < chars.count else { return "" }
            let end = chars[index...].firstIndex(of: 0) ?? chars.count
            return String(decoding: chars[index..<end], as: UTF8.self)
        }

        func truncated() -> TimeZoneError { TimeZoneError.malformed(name, "truncated") }
    }
}
