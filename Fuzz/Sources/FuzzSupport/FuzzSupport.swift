import Glibc

// What every fuzz target shares: stopping with a message when a property fails (libFuzzer
// then saves the input as a crash), choices derived from the input, and a descriptor that
// reads the input back (for readers that take a file descriptor).

/// Stops the run: the message goes to stderr, and abort() makes libFuzzer keep the input.
public func fuzzFail(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fputs("fuzz property failed (\(file):\(line)): \(message)\n", stderr)
    abort()
}

/// A property of the parser that must hold for this input.
@inline(__always)
public func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                      file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fuzzFail(message(), file: file, line: line) }
}

/// The input as bytes (libFuzzer may pass a null pointer with a zero size).
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// FNV-1a of the input: choices (buffer sizes, probe times) that must not eat the front
/// of the input, so a seed that is a real file stays a real file, yet are reproducible.
public func fuzzHash(_ bytes: [UInt8]) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return h
}

/// A stream of small choices drawn from a hash (splitmix64).
public struct FuzzChoices {
    private var state: UInt64
    public init(_ bytes: [UInt8]) { state = fuzzHash(bytes) }
    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
    /// A number in `range`.
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }
}

/// Runs `body` with a descriptor whose reads return `bytes` and then end of file: a pipe
/// (reads come in pieces, as from stdin), written whole before `body` runs. Inputs longer
/// than the pipe can hold are cut there; fuzz inputs are far smaller.
public func withReadableDescriptor<T>(_ bytes: [UInt8], _ body: (Int32) throws -> T) rethrows -> T {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { fuzzFail("pipe: errno \(errno)") }
    let capacity = Int(fcntl(fds[1], 1031 /* F_SETPIPE_SZ */, Int32(1 << 20)))
    let count = min(bytes.count, capacity > 0 ? capacity : 65_536)
    var written = 0
    bytes.withUnsafeBytes { raw in
        while written < count {
            let n = write(fds[1], raw.baseAddress! + written, count - written)
            guard n > 0 else { fuzzFail("write to pipe: errno \(errno)") }
            written += n
        }
    }
    close(fds[1])
    defer { close(fds[0]) }
    return try body(fds[0])
}

/// A descriptor open on /dev/null, for writers whose output is not checked.
public let devNull: Int32 = open("/dev/null", O_WRONLY | O_CLOEXEC)

/// Bytes as text for a failure message: printable ASCII kept, the rest escaped.
public func fuzzShow<C: Collection>(_ bytes: C, limit: Int = 200) -> String where C.Element == UInt8 {
    var out = ""
    for b in bytes.prefix(limit) {
        if b >= 0x20 && b < 0x7F && b != UInt8(ascii: "\\") { out.unicodeScalars.append(Unicode.Scalar(b)) } else {
            out += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
        }
    }
    return bytes.count > limit ? out + "..." : out
}

/// What `body` writes to the descriptor it is given (a non-blocking pipe of 1 MiB: a
/// writer that would need more gets EAGAIN, and the output is nil).
public func capturedOutput(_ body: (Int32) throws -> Void) -> [UInt8]? {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { fuzzFail("pipe: errno \(errno)") }
    defer { close(fds[0]) }
    _ = fcntl(fds[1], 1031 /* F_SETPIPE_SZ */, Int32(1 << 20))
    _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
    _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
    let failed: Bool
    do { try body(fds[1]); failed = false } catch { failed = true }
    close(fds[1])
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
        if n <= 0 { break }
        out += chunk[..<n]
    }
    return failed ? nil : out
}
