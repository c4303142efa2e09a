#!/usr/bin/env python3
"""Which b-trees a SQLite WAL's frames are pages of (docs/performance.md, session 27).

    bench/wal-frames.py COPY-OF-THE-WAL COPY-OF-THE-DATABASE

Copy both files while the service runs (the WAL first; opening the live database with the sqlite3 shell would
checkpoint and delete its WAL when the shell closes). Every frame the file holds is counted, also those of earlier
rounds of the WAL beyond its last restart: they are pages the writer wrote too. Needs the sqlite3 shell with dbstat.
"""
import collections
import struct
import subprocess
import sys

wal, database = sys.argv[1], sys.argv[2]
data = open(wal, "rb").read()
page_size = struct.unpack(">I", data[8:12])[0]
frames = collections.Counter()
offset = 32
while offset + 24 + page_size <= len(data):
    frames[struct.unpack(">I", data[offset:offset + 4])[0]] += 1
    offset += 24 + page_size

owners = {}
listing = subprocess.run(["sqlite3", database, "SELECT pageno, name, pagetype FROM dbstat"], capture_output=True, text=True, check=True)
for line in listing.stdout.splitlines():
    page, name, kind = line.split("|")
    owners[int(page)] = (name, kind)

by_tree = collections.Counter()
for page, count in frames.items():
    by_tree[owners.get(page, ("(free or new)", ""))[0]] += count
total = sum(frames.values())
print(f"{total} frames of {page_size} bytes, {len(frames)} distinct pages")
for name, count in by_tree.most_common():
    print(f"{count:8} {100 * count / total:5.1f} %  {name}")
