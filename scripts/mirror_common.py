"""What every exchange's mirror writer shares (make-mirror.py, mirror_bybit.py,
mirror_kucoin.py, mirror_okx.py): a run of days, files replaced in one step with a fixed mtime, zips whose bytes do not
depend on the machine, and a zip's `HASH  NAME` sidecar (or its quirks).

The same arguments always write the same bytes and mtimes.
"""
import datetime as dt
import hashlib
import io
import os
import zipfile

# Every zip member's time: a fixed one, so the bytes are the same on every run.
ZIP_DATE_TIME = (2020, 1, 1, 0, 0, 0)


def write_file(path, data, mtime):
    """Replaces the file in one step, so a server reading it meanwhile sees old or new."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".partial"
    with open(tmp, "wb") as f:
        f.write(data)
    os.utime(tmp, (mtime, mtime))
    os.replace(tmp, path)


def zip_bytes(csv_name, text, *more):
    """A zip of one member (or more: `more` is further name, text pairs)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, body in ((csv_name, text), *zip(more[::2], more[1::2])):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3                 # the same bytes on every platform
            info.external_attr = 0o644 << 16
            # Level 1: four times faster than the default and about as large as Binance's zips.
            z.writestr(info, body, compresslevel=1)
    return buf.getvalue()


def write_sidecar(path, data, name, mtime, algorithm, quirk=None):
    """Writes `path`.CHECKSUM, `HASH  NAME` with `algorithm`'s hash (hashlib's name) of
    `data`, the file at `path`. Quirk "no-checksum" removes the sidecar instead;
    "wrong-checksum" hashes other bytes, so the sidecar is still well formed but wrong."""
    sidecar = path + ".CHECKSUM"
    if quirk == "no-checksum":
        if os.path.exists(sidecar):
            os.remove(sidecar)
        return
    digest = hashlib.new(algorithm, data + b"\n" if quirk == "wrong-checksum" else data).hexdigest()
    write_file(sidecar, f"{digest}  {name}".encode(), mtime)


def days(first, count):
    """`count` ISO dates from `first` on."""
    start = dt.date.fromisoformat(first)
    return [(start + dt.timedelta(days=i)).isoformat() for i in range(count)]

