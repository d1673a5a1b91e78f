import ArcCore
import ArcTestSupport
import Glibc
import XCTest

/// Zip archives written by python's zipfile and by Info-ZIP's zip, into a temporary
/// directory once per test run: every way the reader must read (deflate and stored; data
/// descriptors, which both write to a pipe; zip64; several entries; empty ones). Each
/// `NAME.zip` comes with `NAME.expected`, its first entry's bytes, and `NAME.entries`.
final class ZipFixtures: @unchecked Sendable { // written once under the lock in `shared`, read-only afterwards
    let dir: TempDir
    /// Fixture names (without .zip) whose first entry the reader must return whole.
    let wellFormed: [String]
    let infoZip: Bool

    private static let lock = Lock()
    nonisolated(unsafe) private static var made: ZipFixtures?  // guarded by `lock`

    /// The fixtures, made on first use.
    static func shared() throws -> ZipFixtures {
        try lock.withLock {
            if let made { return made }
            let fixtures = try ZipFixtures()
            made = fixtures
            return fixtures
        }
    }

    private init() throws {
        // Tests/ArcSilverTests/ZipFixtures.swift -> the package root.
        var root = "\(#filePath)"
        for _ in 0..<3 { root = FileSystem.parent(of: root) }
        let python = root + "/.venv/bin/python"
        guard access(python, X_OK) == 0 else { throw XCTSkip("no \(python): run make setup") }
        dir = TempDir("arc-zip-fixtures")
        let script = dir.write("make.py", Self.script)
        let process = try Subprocess(executable: python, arguments: [python, script, dir.path], captureStdout: false)
        let status = process.wait()
        guard status == 0 else { throw UnavailableError("zip fixtures", "make.py ended with status \(status)") }
        wellFormed = String(decoding: dir.read("well-formed.txt"), as: UTF8.self).split(separator: "\n").map(String.init)
        infoZip = access(dir.file("infozip-deflate.zip"), F_OK) == 0
    }

    func path(_ name: String) -> String { dir.file(name + ".zip") }
    func bytes(_ name: String) -> [UInt8] { dir.read(name + ".zip") }
    func expected(_ name: String) -> [UInt8] { dir.read(name + ".expected") }
    func entries(_ name: String) -> [String] {
        String(decoding: dir.read(name + ".entries"), as: UTF8.self).split(separator: "\n").map(String.init)
    }

    private static let script = #"""
import io, os, shutil, subprocess, sys, zipfile

out = sys.argv[1]
names = []

def rows(n, start=0):
    # Binance spot aggTrades: id, price, qty, first, last, time (microseconds), maker, best match.
    b = io.StringIO()
    for i in range(start, start + n):
        b.write("%d,%d.%08d,0.%08d,%d,%d,%d,%s,True\n" % (3261437102 + i, 97550 + i % 97, (i * 7919) % 10**8,
                (i * 104729) % 10**8, 4485012110 + 2 * i, 4485012110 + 2 * i + i % 3, 1735689600032000 + i * 1000,
                "True" if i % 3 else "False"))
    return b.getvalue().encode()

class Pipe(io.RawIOBase):
    """An unseekable stream: zipfile then writes data descriptors after each entry."""
    def __init__(self): self.data = bytearray()
    def writable(self): return True
    def write(self, b): self.data += b; return len(b)

def write(name, entries, method=zipfile.ZIP_DEFLATED, stream=False, zip64=False, level=None):
    """entries: [(entry name, bytes, method or None)]"""
    target = Pipe() if stream else open(os.path.join(out, name + ".zip"), "wb")
    with zipfile.ZipFile(target, "w", compression=method, compresslevel=level) as z:
        for entry, data, m in entries:
            info = zipfile.ZipInfo(entry, date_time=(2025, 1, 1, 0, 0, 0))
            info.compress_type = method if m is None else m
            with z.open(info, "w", force_zip64=zip64) as f:
                f.write(data)
    if stream:
        with open(os.path.join(out, name + ".zip"), "wb") as f: f.write(target.data)
    else:
        target.close()
    record(name, entries[0][1] if entries else b"", [e[0] for e in entries])

def record(name, first, entry_names):
    with open(os.path.join(out, name + ".expected"), "wb") as f: f.write(first)
    with open(os.path.join(out, name + ".entries"), "w") as f: f.write("".join(e + "\n" for e in entry_names))
    if entry_names: names.append(name)

big = rows(40000)           # 3.6 MB: several input buffers and output chunks
small = rows(300)
# Stored data that holds what a scanner for the data descriptor could take for one:
# signatures, and descriptors followed by a header's signature whose CRC or length is
# not the data's before them. (One that matched would end the entry there: a stream
# reader has no central directory to tell otherwise.)
import zlib, struct
tricky = bytearray(small[:5000])
tricky += b"PK\x03\x04PK\x01\x02PK\x07\x08"
tricky += struct.pack("<IIII", 0x08074b50, zlib.crc32(bytes(tricky)) ^ 1, len(tricky), len(tricky)) + b"PK\x01\x02"
tricky += struct.pack("<III", zlib.crc32(bytes(tricky)), len(tricky) + 1, len(tricky)) + b"PK\x03\x04"
tricky += small[5000:9000]
tricky = bytes(tricky)

D, S = zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED
write("deflate", [("BTCUSDT-aggTrades-2025-01-01.csv", big, None)])
write("deflate-level1", [("a.csv", big, None)], level=1)
write("stored", [("a.csv", small, None)], method=S)
write("deflate-descriptor", [("a.csv", big, None)], stream=True)
write("stored-descriptor", [("a.csv", tricky, None)], method=S, stream=True)
write("zip64", [("a.csv", big, None)], zip64=True)
write("zip64-descriptor", [("a.csv", big, None)], stream=True, zip64=True)
write("zip64-stored-descriptor", [("a.csv", tricky, None)], method=S, stream=True, zip64=True)
# Small ones, for the tests that read an archive once per cut or per byte.
write("deflate-small", [("a.csv", small, None)])
write("deflate-descriptor-small", [("a.csv", small, None)], stream=True)
write("zip64-descriptor-small", [("a.csv", small, None)], stream=True, zip64=True)
write("several", [("first.csv", small, None), ("second.csv", big, S), ("third.csv", b"x", None)])
write("several-descriptor", [("first.csv", small, None), ("second.csv", tricky, S), ("third.csv", b"", None)], stream=True)
write("empty-entry", [("empty.csv", b"", None)])
write("empty-entry-stored", [("empty.csv", b"", None)], method=S)
write("empty-entry-descriptor", [("empty.csv", b"", None)], stream=True)
write("empty-entry-stored-descriptor", [("empty.csv", b"", None)], method=S, stream=True)
write("empty", [])
# An archive comment, and bytes after the end record (ignored).
with zipfile.ZipFile(os.path.join(out, "comment.zip"), "w", zipfile.ZIP_DEFLATED) as z:
    z.comment = b"made for the tests"
    z.writestr("a.csv", small)
with open(os.path.join(out, "comment.zip"), "ab") as f: f.write(b"\0" * 100)
record("comment", small, ["a.csv"])

# Info-ZIP, when installed: to a file, streamed to a pipe (descriptors), stored, and
# stdin streamed (zip64 with descriptors).
if shutil.which("zip"):
    work = os.path.join(out, "infozip")
    os.mkdir(work)
    for entry, data in (("a.csv", big), ("b.csv", small)):
        with open(os.path.join(work, entry), "wb") as f: f.write(data)
    def zip_(name, args, first, entry_names, stdin=None):
        # Through a pipe: zip writes descriptors only when it cannot seek back.
        data = subprocess.run(["zip", "-q", "-X"] + args, cwd=work, stdout=subprocess.PIPE, stdin=stdin, check=True).stdout
        with open(os.path.join(out, name + ".zip"), "wb") as f: f.write(data)
        record(name, first, entry_names)
    zip_("infozip-deflate", ["-", "a.csv", "b.csv"], big, ["a.csv", "b.csv"])
    zip_("infozip-stored", ["-0", "-", "b.csv"], small, ["b.csv"])
    with open(os.path.join(work, "a.csv"), "rb") as f:
        zip_("infozip-stdin", ["-", "-"], big, ["-"], stdin=f)
    subprocess.run(["zip", "-q", "-X", "file.zip", "a.csv", "b.csv"], cwd=work, check=True)
    shutil.copy(os.path.join(work, "file.zip"), os.path.join(out, "infozip-file.zip"))
    record("infozip-file", big, ["a.csv", "b.csv"])
    subprocess.run(["zip", "-q", "-X", "-P", "secret", "encrypted.zip", "b.csv"], cwd=work, check=True)
    shutil.copy(os.path.join(work, "encrypted.zip"), os.path.join(out, "infozip-encrypted.zip"))

with open(os.path.join(out, "well-formed.txt"), "w") as f: f.write("\n".join(names) + "\n")
"""#
}
