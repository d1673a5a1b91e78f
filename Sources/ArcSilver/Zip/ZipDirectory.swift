// The rest of an archive after its first entry: later entries, the central directory,
// the zip64 end record and locator, the end record. Read in order and checked against
// what the entries turned out to be, so an archive cut short or patched is not mistaken
// for a whole one. Bytes after the end record (a comment's worth, padding) are not read.

extension ZipEntryReader {
    func readRemainingRecords() throws {
        while true {
            guard try input.request(4) else {
                throw error(.truncated, "ends after \(readEntries.count) \(readEntries.count == 1 ? "entry" : "entries"), "
                                + "before its central directory")
            }
            let signature = input.u32(0)
            if signature == ZipSignature.central { break }
            guard signature == ZipSignature.local else {
                if signature == ZipSignature.end || signature == ZipSignature.zip64End {
                    throw error(.corruptArchive, "its central directory lists no entry, but \(readEntries.count) were read")
                }
                throw error(.corruptArchive, "no zip record starts at offset \(input.offset) "
                                + "(\"\(printable(input.bytes(0, min(input.available, 16))))\")")
            }
            let header = try readLocalHeader()
            try begin(header)
            try skipEntry()
        }
        let directoryOffset = input.offset
        let listed = try readCentralDirectory()
        let directorySize = input.offset - directoryOffset
        try readEndRecords(listed: listed, directoryOffset: directoryOffset, directorySize: directorySize)
    }

    /// Reads the central directory headers, each of which must name an entry read (by its
    /// local header's offset) and agree with it; returns how many there were.
    private func readCentralDirectory() throws -> Int {
        var byOffset: [Int64: Int] = [:]
        for (index, entry) in readEntries.enumerated() { byOffset[entry.offset] = index }
        var listed = Array(repeating: false, count: readEntries.count)
        var count = 0
        while true {
            guard try input.request(4) else { throw error(.truncated, "ends inside its central directory") }
            guard input.u32(0) == ZipSignature.central else { break }
            guard try input.request(46) else { throw error(.truncated, "ends inside its central directory") }
            let nameLength = Int(input.u16(28)), extraLength = Int(input.u16(30)), commentLength = Int(input.u16(32))
            guard try input.request(46 + nameLength + extraLength + commentLength) else {
                throw error(.truncated, "ends inside its central directory")
            }
            let name = input.text(46, nameLength)
            let crc = input.u32(16)
            var compressed = UInt64(input.u32(20)), size = UInt64(input.u32(24)), offset = UInt64(input.u32(42))
            // Only the fields marked 0xFFFFFFFF are in the zip64 extra field, in this order.
            if var values = zip64Values(in: input.bytes(46 + nameLength, extraLength))?[...] {
                if size == UInt64(zip64Marker), let v = values.popFirst() { size = v }
                if compressed == UInt64(zip64Marker), let v = values.popFirst() { compressed = v }
                if offset == UInt64(zip64Marker), let v = values.popFirst() { offset = v }
            }
            input.consume(46 + nameLength + extraLength + commentLength)
            count += 1
            guard let index = byOffset[Int64(bitPattern: offset)], !listed[index] else {
                throw error(.corruptArchive, "its central directory lists \(quoted(name)) at offset \(offset), "
                                + "where no entry or another one was read")
            }
            listed[index] = true
            let entry = readEntries[index]
            if name != entry.name {
                throw error(.corruptArchive, "its central directory names \(quoted(name)) the entry whose local header "
                                + "names \(quoted(entry.name))")
            }
            if crc != entry.crc {
                throw error(.crcMismatch, "entry \(quoted(entry.name)): its central directory's CRC-32 is \(hex(crc)), "
                                + "its data's \(hex(entry.crc))")
            }
            if compressed != UInt64(entry.compressedSize) || size != UInt64(entry.size) {
                throw error(.sizeMismatch, "entry \(quoted(entry.name)): its central directory says \(compressed) bytes "
                                + "inflating to \(size), its data is \(entry.compressedSize) to \(entry.size)")
            }
        }
        if let missing = listed.firstIndex(of: false) {
            throw error(.corruptArchive, "entry \(quoted(readEntries[missing].name)) is not in its central directory")
        }
        return count
    }

    /// The zip64 end record and its locator when present, then the end record: their
    /// counts, size and offset of the central directory must be the ones read.
    private func readEndRecords(listed: Int, directoryOffset: Int64, directorySize: Int64) throws {
        var signature = input.u32(0)
        if signature == ZipSignature.zip64End {
            let recordOffset = input.offset
            guard try input.request(12) else { throw error(.truncated, "ends inside its zip64 end record") }
            let recordSize = input.u64(4)
            guard recordSize >= 44 && recordSize <= 1 << 20 else {
                throw error(.corruptArchive, "its zip64 end record gives a length of \(recordSize) bytes")
            }
            guard try input.request(12 + Int(recordSize)) else { throw error(.truncated, "ends inside its zip64 end record") }
            if input.u64(32) != UInt64(listed) || input.u64(40) != UInt64(directorySize)
                || input.u64(48) != UInt64(directoryOffset) {
                throw error(.corruptArchive, "its zip64 end record gives \(input.u64(32)) entries, a central directory "
                                + "of \(input.u64(40)) bytes at \(input.u64(48)); read were \(listed), \(directorySize) at \(directoryOffset)")
            }
            input.consume(12 + Int(recordSize))
            guard try input.request(4) else { throw error(.truncated, "ends after its zip64 end record") }
            signature = input.u32(0)
            if signature == ZipSignature.zip64Locator {
                guard try input.request(20) else { throw error(.truncated, "ends inside its zip64 end locator") }
                if input.u64(8) != UInt64(recordOffset) {
                    throw error(.corruptArchive, "its zip64 end locator points at \(input.u64(8)), the record is at \(recordOffset)")
                }
                input.consume(20)
                guard try input.request(4) else { throw error(.truncated, "ends before its end record") }
                signature = input.u32(0)
            }
        }
        guard signature == ZipSignature.end else {
            throw error(.corruptArchive, "no end record at offset \(input.offset) after its central directory "
                            + "(\"\(printable(input.bytes(0, min(input.available, 16))))\")")
        }
        guard try input.request(22) else { throw error(.truncated, "ends inside its end record") }
        let count = input.u16(10), size = input.u32(12), offset = input.u32(16)
        // 0xFFFF and 0xFFFFFFFF say "see the zip64 record"; writers without zip64 wrap
        // larger values, so they are compared modulo the field's width.
        if (count != 0xFFFF && count != UInt16(truncatingIfNeeded: listed))
            || (size != zip64Marker && size != UInt32(truncatingIfNeeded: directorySize))
            || (offset != zip64Marker && offset != UInt32(truncatingIfNeeded: directoryOffset)) {
            throw error(.corruptArchive, "its end record gives \(count) entries, a central directory of \(size) bytes "
                            + "at \(offset); read were \(listed), \(directorySize) at \(directoryOffset)")
        }
        let commentLength = Int(input.u16(20))
        guard try input.request(22 + commentLength) else { throw error(.truncated, "ends inside its end record's comment") }
        input.consume(22 + commentLength)
    }
}
