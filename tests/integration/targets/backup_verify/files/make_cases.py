#!/usr/bin/env python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Derive the backup_verify test cases from real pg_dump output.

Usage: make_cases.py WORKDIR PLAIN_SQL SMALL_SQL CUSTOM_DUMP NOTES_SQL NOTES_INSERTS_SQL

PLAIN_SQL is a plain pg_dump of the test database, SMALL_SQL one of a much smaller database,
CUSTOM_DUMP a pg_dump -Fc of the test database, NOTES_SQL and NOTES_INSERTS_SQL plain dumps
(COPY, and --inserts) of a database whose data holds the completion marker (files/notes.sql). Every case gets its own directory under
WORKDIR/cases; every series its own directory under WORKDIR/series. Times in names are
relative to now (UTC unless said), and mtimes are set in the past so that only the files meant
to be "still being written" are fresh. Prints a JSON summary of what it wrote.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
import os
import sys
import zlib

MARKER = b"-- PostgreSQL database dump complete"
NAME = "backup_%Y%m%d_%H%M%S.sql.gz"
NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
OLD_MTIME = NOW.timestamp() - 3600


def gz(data):
    return gzip.compress(data, 6)


def write(path, data, sidecar=True, fresh=False, checksum=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
    if sidecar:
        digest = checksum or hashlib.sha256(data).hexdigest()
        with open(path + ".sha256", "w", encoding="ascii") as handle:
            handle.write("%s  %s\n" % (digest, os.path.basename(path)))
    if not fresh:
        os.utime(path, (OLD_MTIME, OLD_MTIME))
    return path


def name_at(when, pattern=NAME):
    return when.strftime(pattern)


def main():
    workdir, plain_path, small_path, custom_path, notes_path, inserts_path = sys.argv[1:7]
    with open(plain_path, "rb") as handle:
        plain = handle.read()
    with open(small_path, "rb") as handle:
        small = handle.read()
    with open(custom_path, "rb") as handle:
        custom = handle.read()
    with open(notes_path, "rb") as handle:
        notes = handle.read()
    with open(inserts_path, "rb") as handle:
        inserts = handle.read()
    if MARKER not in plain[-4096:]:
        raise SystemExit("the plain dump has no completion marker")
    # PostgreSQL 15.18's pg_dump may or may not write \restrict / \unrestrict; make sure one
    # case has a line after the marker, as every pg_dump does since the CVE-2025-8714 fix.
    if b"\\unrestrict" in plain[plain.rindex(MARKER) :]:
        unrestricted = plain
    else:
        unrestricted = plain + b"\\unrestrict K5aUgkcsV1JXfRdN5hPXGMvM2eTYqQjwnfPYTnt4LMOmdUgL1XiGp0tDyfrUxmk\n\n"
    cases = os.path.join(workdir, "cases")
    stamp = name_at(NOW - datetime.timedelta(hours=1))
    written = {}

    def case(label, data, **kwargs):
        written[label] = write(os.path.join(cases, label, stamp), data, **kwargs)

    valid = gz(plain)
    case("valid", valid)
    case("unrestrict", gz(unrestricted))
    # Bytes cut from the end: the gzip trailer (CRC, length) and some data are gone.
    # Cut after its sidecar was written (a copy or a disk that ran out): the sidecar is the full file's.
    full = hashlib.sha256(valid).hexdigest()
    case("cut_end", valid[: len(valid) - 1000], checksum=full)
    case("cut_trailer", valid[:-4], checksum=full)
    # pg_dump killed midway under `pg_dump | gzip` without pipefail: a valid gzip, no marker.
    case("killed_midway", gz(plain[: len(plain) // 2]))
    case("sha_mismatch", valid, checksum=hashlib.sha256(b"another file").hexdigest())
    case("no_sidecar", valid, sidecar=False)
    case("zero_bytes", b"")
    # Several members: what `cat a.gz b.gz` or pigz --independent make; gunzip reads them as one.
    third = len(unrestricted) // 3
    case("multi_member", gz(unrestricted[:third]) + gz(unrestricted[third : 2 * third]) + gz(unrestricted[2 * third :]))
    # A flipped byte in the middle of the deflate data: CRC (or the deflate stream) fails.
    flipped = bytearray(valid)
    flipped[len(flipped) // 2] ^= 0xFF
    case("bit_flip", bytes(flipped), checksum=hashlib.sha256(valid).hexdigest())
    case("trailing_garbage", valid + b"this is not gzip")
    case("plain_uncompressed", plain)
    # Corrupt gzip files whose messages must say exactly what failed and where.
    crc = bytearray(valid)
    crc[-8] ^= 0x01
    case("crc_flip", bytes(crc))
    isize = bytearray(valid)
    isize[-1] ^= 0x01
    case("isize_flip", bytes(isize))
    members = [gz(unrestricted[:third]), gz(unrestricted[third : 2 * third]), gz(unrestricted[2 * third :])]
    member_flip = bytearray(b"".join(members))
    flip_at = len(members[0]) + len(members[1]) // 2
    member_flip[flip_at] ^= 0xFF
    case("member_flip", bytes(member_flip))

    # The completion marker as data (files/notes.sql), cut right after it: none is complete.
    def cut_after(data, needle, start):
        return data[: data.index(needle, data.index(start)) + len(needle)]

    line = MARKER + b"\n"
    case("notes_valid", gz(notes))
    case("notes_inserts_valid", gz(inserts))
    # A whole row of a one-column table; then the rows that copy pg_dump's own ending block.
    case("notes_cut_row", gz(cut_after(notes, b"\n" + line, b"COPY public.note_line")))
    case("notes_cut_dashes", gz(cut_after(notes, b"--\n" + line + b"--\n\n", b"COPY public.note_line")))
    # One column of a row; and plain, uncompressed.
    case("notes_cut_column", gz(cut_after(notes, b"1\t" + line, b"COPY public.note ")))
    written["notes_cut_plain"] = write(
        os.path.join(cases, "notes_cut_plain", stamp[:-3]), cut_after(notes, b"1\t" + line, b"COPY public.note ")
    )
    # --inserts: a line of a string literal; and a line of a function body.
    case("notes_cut_inserts", gz(cut_after(inserts, line, b"INSERT INTO public.note VALUES (2")))
    case("notes_cut_function", gz(cut_after(notes, line, b"CREATE FUNCTION public.note_marker")))
    # A complete dump followed by a second one cut in a COPY block (two dumps in one file).
    case("notes_concatenated", gz(notes + cut_after(notes, b"\n" + line, b"COPY public.note_line")))
    # Two gzip members split in the middle of the real marker line: complete.
    split = notes.rindex(MARKER) + 10
    case("notes_split_marker", gz(notes[:split]) + gz(notes[split:]))

    custom_name = name_at(NOW - datetime.timedelta(hours=1), "backup_%Y%m%d_%H%M%S.dump")
    written["custom_valid"] = write(os.path.join(cases, "custom_valid", custom_name), custom)
    written["custom_half"] = write(os.path.join(cases, "custom_half", custom_name), custom[: len(custom) // 2])

    # A file still being written: the newest name, a fresh mtime, no trailer yet.
    series = os.path.join(workdir, "series")
    days = [NOW - datetime.timedelta(hours=1) - datetime.timedelta(days=n) for n in range(7)]
    for when in days:
        write(os.path.join(series, "ok", name_at(when)), valid)
    write(
        os.path.join(series, "ok", name_at(NOW - datetime.timedelta(minutes=1))),
        valid[: len(valid) // 3],
        sidecar=False,
        fresh=True,
    )
    # The same seven days, three days late: the mtimes are recent (1 h), the names are not.
    for when in days:
        write(os.path.join(series, "stale", name_at(when - datetime.timedelta(days=3))), valid)
    # Day 3 and 4 missing: one gap of three days.
    for index, when in enumerate(days):
        if index not in (3, 4):
            write(os.path.join(series, "gap", name_at(when)), valid)
    # The newest is a valid dump of a much smaller database: a shrink against the median.
    for index, when in enumerate(days):
        write(os.path.join(series, "shrink", name_at(when)), gz(small) if index == 0 else valid)
    # Named in Tokyo time (UTC+9, no DST): read as UTC, the newest looks 9 hours in the future.
    tokyo = datetime.timezone(datetime.timedelta(hours=9))
    write(os.path.join(series, "tokyo", name_at((NOW - datetime.timedelta(minutes=30)).astimezone(tokyo))), valid)
    # Three days late, plus one named for tomorrow (a clock or time zone problem).
    for when in days:
        write(os.path.join(series, "future", name_at(when - datetime.timedelta(days=3))), valid)
    write(os.path.join(series, "future", name_at(NOW + datetime.timedelta(days=1))), valid)
    # Every backup named in the future.
    for ahead in (1, 2):
        write(os.path.join(series, "all_future", name_at(NOW + datetime.timedelta(days=ahead))), valid)
    # Six different dumps (a comment line of their own after the marker) read at the same time
    # (workers); the third newest has a flipped byte in its deflate data (its sidecar is the
    # original's), the fifth lost its last third.
    for index, when in enumerate(days[:6]):
        data = gz(unrestricted + b"-- copy %d\n" % index)
        digest = hashlib.sha256(data).hexdigest()
        if index == 2:
            middle = len(data) // 2
            data = data[:middle] + bytes([data[middle] ^ 0x55]) + data[middle + 1 :]
        elif index == 4:
            data = data[: len(data) * 2 // 3]
        write(os.path.join(series, "parallel", name_at(when)), data, checksum=digest)
    # Things with a backup's name that are no readable file.
    odd = os.path.join(series, "odd")
    write(os.path.join(odd, name_at(days[2])), valid)
    os.symlink(os.path.join(odd, "gone.sql.gz"), os.path.join(odd, name_at(days[1])))
    os.mkfifo(os.path.join(odd, name_at(days[0])))
    os.utime(os.path.join(odd, name_at(days[0])), (OLD_MTIME, OLD_MTIME))
    # For restore: SQL that fails midway (a division by zero between two COPY blocks).
    split = plain.index(b"\nCOPY ")
    broken = plain[:split] + b"\nSELECT 1/0;\n" + plain[split:]
    written["restore_fails"] = write(os.path.join(cases, "restore_fails", stamp), gz(broken))
    json.dump(
        {
            "now": NOW.isoformat(),
            "stamp": stamp,
            "files": written,
            "unrestrict_added": unrestricted is not plain,
            "valid_size": len(valid),
            "small_size": len(gz(small)),
            "crc_ok": zlib.crc32(plain) & 0xFFFFFFFF,
            "plain_size": len(plain),
            "member1_size": len(members[0]),
            "member2_end": len(members[0]) + len(members[1]),
            "flip_at": flip_at,
            "newest_real": name_at(days[0] - datetime.timedelta(days=3)),
            "tomorrow": name_at(NOW + datetime.timedelta(days=1)),
            "parallel_corrupt": [name_at(days[2]), name_at(days[4])],
        },
        sys.stdout,
        indent=1,
    )


if __name__ == "__main__":
    main()
