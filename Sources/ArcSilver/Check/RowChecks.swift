/// The checks made on each row as it is parsed, in the same pass and in bounded memory:
/// keys in order make duplicate keys adjacent, exact duplicates are found by hashing rows
/// only within a run of equal times, and each tally keeps a few examples.
struct RowChecks {
    let periodStart: Int64
    let periodEnd: Int64
    let series: SeriesKind
    let timeSlot: UnsafePointer<Int64>
    let keySlot: UnsafePointer<Int64>?
    let firstTradeSlot: UnsafePointer<Int64>?
    let lastTradeSlot: UnsafePointer<Int64>?
    let priceSlots: [UnsafePointer<Double>]
    /// Where each column's value of a row sits, for hashing whole rows.
    let hashSlots: [(slot: UnsafeRawPointer?, width: Int, present: UnsafePointer<Bool>?, column: Int)]
    var grid: KlineGrid?
    /// A text column that identifies a row (see Dataset.textKeyColumn).
    let textKeyColumn: Int?
    /// Hashes of the text keys in the current run of equal times.
    var runKeys = Set<UInt64>()

    var seen = false
    var previousTime: Int64 = 0
    var previousKey: Int64 = 0
    /// The highest key so far: ids missing are counted after it, so a row out of place
    /// is one row out of order rather than two gaps.
    var highestKey: Int64 = 0
    var previousLastTrade: Int64 = 0
    /// A row was refused (a field that does not parse) since the last one checked: the id
    /// it held is not missing from the file, only from silver; no gap is counted across it.
    var afterRefused = false
    /// Klines: which open times of the period were seen, one bit each (a month of 1s
    /// klines is 2.7 million bits, 330 KB), so rows out of order fill their slot and only
    /// open times no row had are missing, wherever they sit.
    var slots = KlineSlots()
    var minTime = Int64.max
    var maxTime = Int64.min
    /// Hashes of the rows in the current run of equal times (cleared when the time changes).
    var runHashes = Set<UInt64>()
    /// The last row's hash when the batch it sat in has gone out.
    var carriedHash: UInt64 = 0
    static let maxRunHashes = 1 << 16

    var timeOutside = Tally()
    var nonPositivePrices = Tally()
    var duplicateRows = Tally()
    var duplicateKeys = Tally()
    var outOfOrder = Tally()
    var missing = Tally()
    var offGrid = Tally()
    var idGaps = Tally()
    var tradeIdGaps = Tally()

    init(dataset: Dataset, identity: ArchiveIdentity, scratch: ScratchColumns) {
        periodStart = identity.periodStart
        periodEnd = identity.periodEnd
        series = dataset.series
        func int64s(_ column: Int) -> UnsafePointer<Int64> {
            UnsafePointer(scratch.slots[column]!.assumingMemoryBound(to: Int64.self))
        }
        timeSlot = int64s(dataset.timeColumn)
        keySlot = dataset.keyColumn.map(int64s)
        firstTradeSlot = dataset.tradeIdColumns.map { int64s($0.first) }
        lastTradeSlot = dataset.tradeIdColumns.map { int64s($0.last) }
        priceSlots = dataset.priceColumns.map { UnsafePointer(scratch.slots[$0]!.assumingMemoryBound(to: Double.self)) }
        hashSlots = dataset.schema.indices.map { i in
            (scratch.slots[i].map { UnsafeRawPointer($0) }, dataset.schema[i].type == .boolean ? 1 : 8,
             scratch.present[i].map { UnsafePointer($0) }, i)
        }
        grid = dataset.interval.map(KlineGrid.init)
        textKeyColumn = dataset.textKeyColumn
    }

    @inline(__always)
    mutating func check(row r: Int, line: Int, strings: [StringColumn]) {
        let t = timeSlot[r]
        if t < periodStart || t >= periodEnd { timeOutside.add(line: line) }
        if t < minTime { minTime = t }
        if t > maxTime { maxTime = t }
        for prices in priceSlots where !(prices[r] > 0) {
            nonPositivePrices.add(line: line)
            break
        }
        guard seen else {
            firstRow(r, t, line)
            if textKeyColumn != nil { _ = repeatsTextKey(r, sameTime: false, strings) }
            return
        }
        if t == previousTime {
            // Only rows with the same time can repeat one another here: hash within the run.
            if repeats(r, strings) {
                duplicateRows.add(line: line)
                return
            }
        } else if !runHashes.isEmpty {
            runHashes.removeAll(keepingCapacity: true)
        }
        if textKeyColumn != nil, repeatsTextKey(r, sameTime: t == previousTime, strings) {
            duplicateKeys.add(line: line)
        }
        var backwards = t < previousTime
        if let keySlot {
            let k = keySlot[r]
            if k == previousKey {
                duplicateKeys.add(line: line)
            } else if k < previousKey {
                backwards = true
            } else if k > highestKey &+ 1, series == .trades || series == .aggTrades, !afterRefused {
                idGaps.add(line: line)
                idGaps.amount &+= k &- highestKey &- 1
            }
            previousKey = k
            if k > highestKey { highestKey = k }
        }
        if backwards { outOfOrder.add(line: line) }
        if let firstTradeSlot, let lastTradeSlot {
            if firstTradeSlot[r] != previousLastTrade &+ 1 && !afterRefused { tradeIdGaps.add(line: line) }
            previousLastTrade = lastTradeSlot[r]
        }
        if grid != nil { klineRow(t, line) }
        previousTime = t
        afterRefused = false
    }

    mutating func refusedRow() { afterRefused = true }

    private mutating func firstRow(_ r: Int, _ t: Int64, _ line: Int) {
        seen = true
        previousTime = t
        previousKey = keySlot?[r] ?? 0
        highestKey = previousKey
        previousLastTrade = lastTradeSlot?[r] ?? 0
        guard var grid else { return }
        if grid.origin == nil { grid.origin = t }
        self.grid = grid
        if !grid.onGrid(t) { offGrid.add(line: line) }
        if let first = grid.atOrAfter(periodStart) { slots.start(first: first, count: Int(grid.count(from: first, to: periodEnd))) }
        slots.mark(t, grid)
    }

    private mutating func klineRow(_ t: Int64, _ line: Int) {
        let grid = self.grid.unsafelyUnwrapped
        if !grid.onGrid(t) { offGrid.add(line: line) }
        slots.mark(t, grid)
    }

    /// Whether row r repeats a row earlier in its run of equal times.
    private mutating func repeats(_ r: Int, _ strings: [StringColumn]) -> Bool {
        let h = hash(r, strings)
        if runHashes.isEmpty {
            // The run's first row (the one before): in scratch, or in the batch gone out.
            runHashes.insert(r > 0 ? hash(r - 1, strings) : carriedHash)
        }
        if runHashes.contains(h) { return true }
        if runHashes.count < RowChecks.maxRunHashes { runHashes.insert(h) }
        return false
    }

    /// Whether row r's text key was seen earlier in its run of equal times (a trade id
    /// that is not a number): rows of one trade share its time, so memory stays bounded
    /// by the longest run.
    private mutating func repeatsTextKey(_ r: Int, sameTime: Bool, _ strings: [StringColumn]) -> Bool {
        if !sameTime { runKeys.removeAll(keepingCapacity: true) }
        let column = strings[textKeyColumn.unsafelyUnwrapped]
        var h: UInt64 = 0x1319_8A2E_0370_7344
        for byte in column.bytes[column.range(r)] {
            h = (h ^ UInt64(byte)) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 32
        }
        if runKeys.contains(h) { return true }
        if runKeys.count < RowChecks.maxRunHashes { runKeys.insert(h) }
        return false
    }

    /// A 64-bit hash of row r's values (equal rows hash equal; unequal ones collide with
    /// odds of about 2^-64).
    func hash(_ r: Int, _ strings: [StringColumn]) -> UInt64 {
        var h: UInt64 = 0x243F_6A88_85A3_08D3
        @inline(__always) func mix(_ v: UInt64) {
            h = (h ^ v) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 32
        }
        for s in hashSlots {
            if let present = s.present { mix(present[r] ? 1 : 2) }
            if let slot = s.slot {
                mix(s.width == 8 ? slot.load(fromByteOffset: r * 8, as: UInt64.self)
                                 : UInt64(slot.load(fromByteOffset: r, as: UInt8.self)))
            } else {
                let column = strings[s.column]
                for byte in column.bytes[column.range(r)] { mix(UInt64(byte)) }
                mix(0xFFFF)
            }
        }
        return h
    }

    /// The end-of-file checks: a file that stops well before its period does.
    mutating func finish(cutShortAfter: Int64?, cutShort: inout Tally) {
        guard seen else { return }
        if let grid {
            // Open times no row had: before the last one seen, missing; after it, cut short.
            let last = slots.lastMarked
            for (from, to) in slots.unmarkedRuns() {
                let start = slots.time(from, grid), end = to == slots.count ? periodEnd : slots.time(to, grid)
                if let last, from > last {
                    cutShort.add(range: (start, end), amount: Int64(to - from))
                } else {
                    missing.add(range: (start, end), amount: Int64(to - from))
                }
            }
        } else if let cutShortAfter, maxTime < periodEnd - cutShortAfter {
            cutShort.add(range: (max(maxTime, periodStart), periodEnd), amount: periodEnd - maxTime)
        }
    }
}
