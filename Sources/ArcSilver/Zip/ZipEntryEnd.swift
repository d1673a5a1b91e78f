import Glibc

// Where an entry's data ends and what it is checked against: its local header, or the
// data descriptor after it (general purpose bit 3). A stored entry with a descriptor has
// no length anywhere before its end, so its data is scanned for the descriptor.

extension ZipEntryReader {
    /// Checks the entry whose data just ended against what the archive recorded for it,
    /// reading its data descriptor if it has one, and keeps it for the central directory.
    func finishEntry() throws {
        let header = current!
        if header.hasDescriptor {
            // A stored entry's descriptor was found, checked and passed by the scan.
            if header.method == 8 { try readDescriptor(header) }
        } else {
            if entryCRC != header.crc {
                throw error(.crcMismatch, "\(entryLabel(header)): its data's CRC-32 is \(hex(entryCRC)), "
                                + "its local header says \(hex(header.crc))")
            }
            if entryInflated != header.size! || entryCompressed != header.compressedSize! {
                throw error(.sizeMismatch, "\(entryLabel(header)): its data is \(entryCompressed) bytes "
                                + "inflating to \(entryInflated), its local header says \(header.compressedSize!) to \(header.size!)")
            }
        }
        readEntries.append(ReadEntry(name: header.name, offset: header.offset, crc: entryCRC,
                                     compressedSize: entryCompressed, size: entryInflated))
        current = nil
    }

    /// Reads the data descriptor after a deflated entry. Its layout (signature or not,
    /// 4- or 8-byte sizes) is the one whose fields equal what the data turned out to be
    /// and after which a zip record starts; when none fits, the layout the header implies
    /// says what is wrong.
    private func readDescriptor(_ header: LocalHeader) throws {
        _ = try input.request(28)  // the longest layout and the next record's signature
        for layout in DescriptorLayout.candidates(zip64: header.zip64)
            where input.available >= layout.length + 4 && descriptorMatches(input.pending, at: 0, layout)
                && ZipSignature.followsEntry(input.u32(layout.length)) {
            input.consume(layout.length)
            return
        }
        let signed = input.available >= 4 && input.u32(0) == ZipSignature.descriptor
        let layout = DescriptorLayout(signed: signed, wide: header.zip64)
        guard input.available >= layout.length else {
            throw error(.truncated, "ends inside the data descriptor of \(entryLabel(header))")
        }
        let (crc, compressed, size) = descriptorFields(input.pending, at: 0, layout)
        if crc != entryCRC {
            throw error(.crcMismatch, "\(entryLabel(header)): its data's CRC-32 is \(hex(entryCRC)), "
                            + "its data descriptor says \(hex(crc))")
        }
        if !descriptorMatches(input.pending, at: 0, layout) {
            throw error(.sizeMismatch, "\(entryLabel(header)): its data is \(entryCompressed) bytes inflating to "
                            + "\(entryInflated), its data descriptor says \(compressed) to \(size)")
        }
        if input.available < layout.length + 4 {
            throw error(.truncated, "ends after the data descriptor of \(entryLabel(header)), before its central directory")
        }
        throw error(.corruptArchive, "no zip record follows the data descriptor of \(entryLabel(header)) "
                        + "at offset \(input.offset + Int64(layout.length))")
    }

    /// The CRC-32 and sizes of a descriptor laid out as `layout` at `at` in `bytes`.
    private func descriptorFields(_ bytes: UnsafeRawBufferPointer, at: Int, _ layout: DescriptorLayout)
        -> (crc: UInt32, compressed: UInt64, size: UInt64) {
        let fields = at + (layout.signed ? 4 : 0)
        if layout.wide {
            return (littleEndian32(bytes, fields), littleEndian64(bytes, fields + 4), littleEndian64(bytes, fields + 12))
        }
        return (littleEndian32(bytes, fields), UInt64(littleEndian32(bytes, fields + 4)), UInt64(littleEndian32(bytes, fields + 8)))
    }

    /// Whether a descriptor laid out as `layout` at `at` holds the current entry's CRC and
    /// sizes (4-byte sizes compared modulo 2^32, as writers without zip64 wrap them).
    private func descriptorMatches(_ bytes: UnsafeRawBufferPointer, at: Int, _ layout: DescriptorLayout,
                                   crc: UInt32? = nil, compressed: Int64? = nil, size: Int64? = nil) -> Bool {
        if layout.signed && littleEndian32(bytes, at) != ZipSignature.descriptor { return false }
        let found = descriptorFields(bytes, at: at, layout)
        let wantCompressed = UInt64(bitPattern: compressed ?? entryCompressed)
        let wantSize = UInt64(bitPattern: size ?? entryInflated)
        let mask: UInt64 = layout.wide ? .max : 0xFFFF_FFFF
        return found.crc == (crc ?? entryCRC) && found.compressed == wantCompressed & mask && found.size == wantSize & mask
    }

    /// A stored entry with a data descriptor: its bytes run up to a descriptor that holds
    /// their CRC and length and is followed by a local or central header. Bytes that cannot
    /// start such a descriptor (more than 28 before the end of what was read) are passed on
    /// at once; a candidate once rejected stays rejected (its CRC and length cannot change).
    func copyStoredScanning(_ header: LocalHeader, into out: UnsafeMutableRawBufferPointer) throws -> (count: Int, ended: Bool) {
        while true {
            if let (dataEnd, layout) = findStoredDescriptor(header) {
                let count = min(dataEnd, out.count)
                emit(count, into: out)
                if count < dataEnd { return (count, false) }
                input.consume(layout.length)
                storedDescriptorEnd = nil
                return (count, true)
            }
            let surelyData = input.available - 27
            if surelyData > 0 {
                let count = min(surelyData, out.count)
                emit(count, into: out)
                return (count, false)
            }
            if !(try input.refill()) {
                throw error(.truncated, "ends inside the stored data of \(entryLabel(header)) after \(entryCompressed) bytes, "
                                + "with no data descriptor found")
            }
        }
    }

    /// Where the pending data of a stored entry ends (bytes from the position) and the
    /// descriptor's layout there; nil when no descriptor is in what was read.
    private func findStoredDescriptor(_ header: LocalHeader) -> (Int, DescriptorLayout)? {
        if let (end, layout) = storedDescriptorEnd { return (Int(end - input.offset), layout) }
        let pending = input.pending
        var at = max(0, Int(scannedTo - input.offset))
        while at + 4 <= pending.count {
            guard let p = memchr(pending.baseAddress! + at, 0x50, pending.count - 3 - at) else {
                at = pending.count - 3
                break
            }
            at = UnsafeRawPointer(p) - pending.baseAddress!
            let signature = littleEndian32(pending, at)
            if signature == ZipSignature.local || signature == ZipSignature.central {
                for layout in DescriptorLayout.candidates(zip64: header.zip64) where at >= layout.length {
                    let dataEnd = at - layout.length
                    let length = entryCompressed + Int64(dataEnd)
                    // Sizes first: the CRC over the bytes is the dearer test.
                    guard descriptorMatches(pending, at: dataEnd, layout, crc: descriptorCRC(pending, at: dataEnd, layout),
                                            compressed: length, size: length) else { continue }
                    let crc = crc32(continuing: entryCRC, pending.baseAddress!, count: dataEnd)
                    guard descriptorMatches(pending, at: dataEnd, layout, crc: crc, compressed: length, size: length) else { continue }
                    storedDescriptorEnd = (input.offset + Int64(dataEnd), layout)
                    return (dataEnd, layout)
                }
            }
            at += 1
        }
        scannedTo = input.offset + Int64(max(at, 0))
        return nil
    }

    /// The CRC field of a descriptor laid out as `layout` at `at`.
    private func descriptorCRC(_ bytes: UnsafeRawBufferPointer, at: Int, _ layout: DescriptorLayout) -> UInt32 {
        littleEndian32(bytes, at + (layout.signed ? 4 : 0))
    }
}

/// 0x1234abcd, for messages.
func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
