/// The RLE / bit-packed hybrid (Encodings.md): definition levels and dictionary indices.
/// A run of 8 or more equal values becomes an RLE run (header count<<1, then the value in
/// ceil(width/8) bytes); everything else goes out in bit-packed groups of 8 (header
/// groups<<1 | 1). Only the data's last group may be padded, so values in front of an RLE
/// run are first topped up to a multiple of 8 from the run itself.
enum RleHybridEncoder {
    static func encode<T: FixedWidthInteger & UnsignedInteger>(_ values: UnsafeBufferPointer<T>, width: Int, into out: ByteBuffer) {
        let n = values.count
        var literalStart = 0
        var i = 0
        while i < n {
            let value = values[i]
            var j = i + 1
            while j < n && values[j] == value { j += 1 }
            let run = j - i
            if run >= 8 {
                let pad = (8 - (i - literalStart) % 8) % 8
                if run - pad >= 8 {
                    let runStart = i + pad
                    if runStart > literalStart {
                        literals(values, literalStart..<runStart, width: width, into: out)
                    }
                    repeated(UInt64(value), count: j - runStart, width: width, into: out)
                    literalStart = j
                }
            }
            i = j
        }
        if literalStart < n { literals(values, literalStart..<n, width: width, into: out) }
    }

    private static func repeated(_ value: UInt64, count: Int, width: Int, into out: ByteBuffer) {
        out.append(varint: UInt64(count) << 1)
        var v = value
        for _ in 0..<(width + 7) / 8 {
            out.append(byte: UInt8(truncatingIfNeeded: v))
            v >>= 8
        }
    }

    private static func literals<T: FixedWidthInteger & UnsignedInteger>(_ values: UnsafeBufferPointer<T>, _ range: Range<Int>, width: Int, into out: ByteBuffer) {
        let groups = (range.count + 7) / 8
        out.append(varint: UInt64(groups) << 1 | 1)
        out.reserve(groups * width + 8)
        var writer = BitWriter(out.end)
        for k in range { writer.put(UInt64(values[k]), width: width) }
        for _ in range.count..<groups * 8 { writer.put(0, width: width) }
        let end = writer.finish()
        out.count = end - out.base
    }
}
