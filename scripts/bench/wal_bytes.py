#!/usr/bin/env python3
"""WAL bytes written per commit when tokens are inserted in batches of N, on a copy of a
Tollgate SQLite database (docs/PERFORMANCE.md, "What the profile shows is in the way").

    python3 scripts/bench/wal_bytes.py DB N COMMITS

DB must hold at least one token (its last row is the template; KEEP=1 scripts/bench.sh
leaves one in /tmp/tollgate-bench/bench.db) and is not modified: the inserts go into a
copy. Automatic checkpoints are off, so the log's growth is what the commits wrote. The
time per token includes SQLite's fsync per commit (synchronous=FULL, as in the server).
"""
import glob
import os
import secrets
import shutil
import sqlite3
import sys
import tempfile
import time


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    src, per, commits = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if not os.path.isfile(src):
        sys.exit(f"{src}: no such database file")
    work = tempfile.mkdtemp(prefix="wal-bytes-")
    db = os.path.join(work, "copy.db")
    s = sqlite3.connect(src)
    s.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    s.close()
    shutil.copy(src, db)
    c = sqlite3.connect(db, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("PRAGMA synchronous=FULL")
    c.execute("PRAGMA wal_autocheckpoint=0")
    c.execute("PRAGMA foreign_keys=ON")
    try:
        cur = c.execute("SELECT * FROM tokens ORDER BY seq DESC LIMIT 1")
    except sqlite3.OperationalError as e:
        sys.exit(f"{src} is not a Tollgate database: {e}")
    row = cur.fetchone()
    if row is None:
        sys.exit(f"{src} holds no token to copy")
    template = dict(zip([d[0] for d in cur.description], row))
    del template["seq"]
    rows = c.execute("SELECT count(*) FROM tokens").fetchone()[0]
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = os.path.getsize(db + "-wal")
    sql = "INSERT INTO tokens ({}) VALUES ({})".format(
        ", ".join(template), ", ".join("?" * len(template))
    )
    start, n = time.time(), 0
    base_ms = int(time.time() * 1000)
    for _ in range(commits):
        c.execute("BEGIN IMMEDIATE")
        for _ in range(per):
            n += 1
            t = dict(template)
            # Shaped like real ones: time-ordered ids, a keyed hash of 256 random bits.
            t["id"] = "%016x" % ((base_ms + n) * 65536 + n % 65536)
            t["token_hash"] = "hmac-sha256$" + secrets.token_urlsafe(32)
            t["issued_at"] = base_ms + n
            t["expires_at"] = base_ms + n + 3_600_000
            c.execute(sql, list(t.values()))
        c.execute("COMMIT")
    took = time.time() - start
    wal = os.path.getsize(db + "-wal") - before
    page = c.execute("PRAGMA page_size").fetchone()[0]
    c.close()
    for f in glob.glob(os.path.join(work, "*")):
        os.remove(f)
    os.rmdir(work)
    print(
        f"{rows} rows; {per} tokens per commit: {wal / commits:,.0f} WAL bytes per commit "
        f"({wal / commits / (page + 24):.1f} frames of {page} B), {wal / commits / per:,.0f} B "
        f"per token, {took / commits / per * 1e6:.0f} µs per token"
    )


if __name__ == "__main__":
    main()
