/// Row-wise access to a column batch, for the month merge: a row's time, a hash of all its
/// values (equal rows hash equal), and copying one row into another batch.
extension ColumnBatch {
    func hashRow(_ r: Int) -> UInt64 {
        var h: UInt64 = 0x243F_6A88_85A3_08D3
        @inline(__always) func mix(_ v: UInt64) {
            h = (h ^ v) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 32
        }
        for (c, column) in schema.enumerated() {
            if column.optional { mix(present[c][r] ? 1 : 2) }
            switch column.type {
            case .timestamp, .int64: mix(UInt64(bitPattern: int64s[c][r]))
            case .double: mix(doubles[c][r].bitPattern)
            case .boolean: mix(booleans[c][r] ? 3 : 4)
            case .string:
                for byte in strings[c].bytes[strings[c].range(r)] { mix(UInt64(byte)) }
                mix(0xFFFF)
            }
        }
        return h
    }

    /// Appends row `r` of `other` (same schema) as this batch's next row.
    func appendRow(of other: ColumnBatch, _ r: Int) {
        for (c, column) in schema.enumerated() {
            switch column.type {
            case .timestamp, .int64: int64s[c].append(other.int64s[c][r])
            case .double: doubles[c].append(other.doubles[c][r])
            case .boolean: booleans[c].append(other.booleans[c][r])
            case .string:
                let range = other.strings[c].range(r)
                other.strings[c].bytes.withUnsafeBytes { strings[c].append(UnsafeRawBufferPointer(rebasing: $0[range])) }
            }
            if column.optional { present[c].append(other.present[c][r]) }
        }
        rows += 1
    }
}
