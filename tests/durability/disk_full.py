#!/usr/bin/env python3
"""A disk that fills: the ledger lives on a small tmpfs (mounted in a private mount
namespace, so nothing outside this process tree sees it). `pedigree serve` takes
commissions until a filler file takes the remaining space; then appends must fail with
507 storage.full (never 500, never a hang), the server log must name the database file,
every acknowledged entry must stay readable, and once the filler is removed the refused
command and new ones succeed on the same running server. A restart and `pedigree log
audit` (replay of the derived state) close the test.

Usage: disk_full.py PEDIGREE_BINARY [WORK_DIR]
Needs root (mount); otherwise prints SKIPPED and exits 77 (CTest's skip code)."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ledger_fixture as fx  # noqa: E402

SKIP = 77
TMPFS_SIZE = "4m"


def skip(why):
    print("SKIPPED: " + why, flush=True)
    sys.exit(SKIP)


def fill(path):
    """Writes zeros to `path` until the filesystem is full; returns the bytes written."""
    written = 0
    chunk = b"\0" * 4096
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                written += f.write(chunk)
        except OSError:
            pass
        try:
            while True:  # the last partial block
                written += f.write(b"\0")
        except OSError:
            pass
    return written


def in_namespace(binary, work):
    mnt = os.path.join(work, "mnt")
    os.makedirs(mnt)
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + TMPFS_SIZE, "tmpfs", mnt],
                           capture_output=True, text=True)
    if mount.returncode != 0:
        skip("cannot mount a tmpfs: " + mount.stderr.strip())
    try:
        test(binary, work, mnt)
    finally:
        subprocess.run(["umount", "-l", mnt])


def test(binary, work, mnt):
    env, token = fx.make_ledger(binary, mnt)
    server = fx.Server(binary, env, os.path.join(work, "serve.log"))
    server.start()
    acked = {}  # key -> (index, serial)
    seen = {}   # index -> entry bytes
    op = [0]

    def post(key=None, serial=None):
        if key is None:
            key, serial = "k%06d" % op[0], "S%06d" % op[0]
            op[0] += 1
        status, body = fx.commission(server.port, token, key, serial)
        if status == 201:
            index = json.loads(body)["index"]
            if key in acked and acked[key][0] != index:
                fx.fail("%s answered %d, first %d" % (key, index, acked[key][0]))
            acked[key] = (index, serial)
        return key, serial, status, body

    def check_acked(when):
        for key, (index, serial) in acked.items():
            status, body = fx.entry(server.port, token, index)
            if status != 200:
                fx.fail("%s: acknowledged entry %d of %s answers %d %s" %
                        (when, index, key, status, body[:200]))
            if index in seen and seen[index] != body:
                fx.fail("%s: entry %d changed" % (when, index))
            payload = json.loads(body)["payload"]
            if payload.get("clientId") != key or payload.get("serials") != [serial]:
                fx.fail("%s: entry %d is not %s's command" % (when, index, key))
            seen[index] = body

    for _ in range(20):
        _, _, status, body = post()
        if status != 201:
            fx.fail("before the disk fills: %d %s" % (status, body[:300]))
    check_acked("before the disk fills")

    filler = os.path.join(mnt, "filler")
    print("filler: %d bytes; the tmpfs is full" % fill(filler), flush=True)
    refused = None
    for _ in range(5000):  # SQLite reuses free pages of the WAL before it needs a block
        key, serial, status, body = post()
        if status == 201:
            continue
        if status != 507:
            fx.fail("a full disk answered %d %s (want 507 storage.full)" % (status, body[:300]))
        err = json.loads(body)["error"]
        if err["code"] != "storage.full":
            fx.fail("507 with code %s" % err["code"])
        refused = (key, serial)
        break
    if refused is None:
        fx.fail("5000 commissions on a full disk were all accepted")
    print("refused on the full disk: %s -> 507 %s" % (refused[0], body.decode()), flush=True)
    # Refused again while full; reads still work; nothing acknowledged is lost.
    for _ in range(3):
        _, _, status, body = post(*refused)
        if status != 507:
            fx.fail("retry on a full disk answered %d %s" % (status, body[:300]))
    check_acked("while the disk is full")
    # The checkpoint over the new entries is signed and stored on demand: it may fail on a
    # full disk, but only as 507 storage.full.
    status, body = fx.request(server.port, "GET", "/v1/log/checkpoint")
    print("checkpoint while full: %d %s" % (status, body.decode()[:120].replace("\n", " | ")))
    if status not in (200, 507):
        fx.fail("checkpoint on a full disk answered %d %s" % (status, body[:300]))
    with open(os.path.join(work, "serve.log.access"), encoding="utf-8", errors="replace") as f:
        logged = [line for line in f if " 507 " in line]
    db_path = os.path.join(env["PEDIGREE_DIR"], "ledger.db")
    if not any("storage.full" in line and db_path in line for line in logged):
        fx.fail("the server log has no 507 line naming storage.full and %s:\n%s" %
                (db_path, "".join(logged[:5])))
    print("logged: " + logged[0].strip()[:300], flush=True)

    os.remove(filler)  # space returns: the same server takes the refused command
    _, _, status, body = post(*refused)
    if status != 201:
        fx.fail("after space returned, the refused command answered %d %s" %
                (status, body[:300]))
    for _ in range(20):
        _, _, status, body = post()
        if status != 201:
            fx.fail("after space returned: %d %s" % (status, body[:300]))
    check_acked("after space returned")

    server.kill9()
    server.start()
    check_acked("after a restart")
    server.stop()
    audit = fx.run(binary, ["log", "audit"], env, check=False)
    report = json.loads(audit.stdout) if audit.stdout.startswith("{") else {}
    if audit.returncode != 0 or not report.get("ok") or not report.get("derived", {}).get("ok"):
        fx.fail("log audit: exit %d %s %s" % (audit.returncode, audit.stdout[:2000],
                                               audit.stderr[:500]))
    print("log audit: %d entries, derived state replayed, clean" % report["entries"])
    print("acked %d lost 0 duplicated 0" % len(acked))
    print("PASS", flush=True)


def main():
    if len(sys.argv) < 2:
        fx.fail("usage: disk_full.py PEDIGREE_BINARY [WORK_DIR]")
    binary = os.path.abspath(sys.argv[1])
    if os.environ.get("PEDIGREE_DISK_FULL_NS") != "1":
        if os.geteuid() != 0:
            skip("the full-disk test mounts a tmpfs and needs root (CI runs it as root)")
        if shutil.which("unshare") is None:
            skip("unshare (util-linux) is missing")
        probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, text=True)
        if probe.returncode != 0:
            skip("cannot create a mount namespace: " + probe.stderr.strip())
        # A private mount namespace: the tmpfs is gone when the test ends, however it ends.
        env = dict(os.environ, PEDIGREE_DISK_FULL_NS="1")
        proc = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable,
                               os.path.abspath(__file__)] + sys.argv[1:], env=env)
        sys.exit(proc.returncode)
    work = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="pedigree-full-")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    in_namespace(binary, work)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
