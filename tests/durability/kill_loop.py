#!/usr/bin/env python3
"""kill -9 loop: `pedigree serve` under write load is killed with SIGKILL at random
moments (delays from a seeded RNG) and restarted. Writers post commissions with an
Idempotency-Key and retry the same key until they get a 201, recording every
acknowledged index. After each restart every acknowledged entry must be present and
byte-identical to what was read the first time (and carry the writer's clientId and
serial), and a replayed key must answer its first index. At the end every clientId is on
the log at most once and `pedigree log audit` (hashes, signatures, checkpoints, replay of
the derived state) is clean.

Usage: kill_loop.py PEDIGREE_BINARY [WORK_DIR]
Environment: DURABILITY_KILLS (default 24), DURABILITY_SEED (default 18),
DURABILITY_WRITERS (default 4).
Prints `acked N lost L duplicated D`; exit 1 on any loss, duplicate, mismatch or audit
finding."""

import http.client
import json
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ledger_fixture as fx  # noqa: E402


class KeepAlive:
    """A keep-alive connection for the checker's many small GETs."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def get(self, path, token):
        self.conn.request("GET", path, headers={"Authorization": "Bearer " + token})
        resp = self.conn.getresponse()
        return resp.status, resp.read()

    def post(self, path, token, key, body):
        self.conn.request("POST", path, body=json.dumps(body).encode(),
                          headers={"Authorization": "Bearer " + token, "Idempotency-Key": key,
                                   "Content-Type": "application/json"})
        resp = self.conn.getresponse()
        return resp.status, resp.read()

    def close(self):
        self.conn.close()


class Load:
    """Writers posting commissions; each op keeps its key across retries."""

    def __init__(self, server, token, writers):
        self.server, self.token = server, token
        self.lock = threading.Lock()
        self.acked = {}  # key -> (index, serial)
        self.errors = []
        self.stop = threading.Event()
        self.running = threading.Event()  # cleared while the checker reads
        self.running.set()
        self.threads = [threading.Thread(target=self.write, args=(w,), daemon=True)
                        for w in range(writers)]

    def write(self, w):
        op = 0
        while not self.stop.is_set():
            self.running.wait()
            key, serial = "w%d-%06d" % (w, op), "W%dN%06d" % (w, op)
            try:
                status, body = fx.commission(self.server.port, self.token, key, serial)
            except (OSError, http.client.HTTPException):
                time.sleep(0.01)  # the server is down: retry the same key
                continue
            if status == 201:
                index = json.loads(body)["index"]
                with self.lock:
                    self.acked[key] = (index, serial)
                op += 1
            elif status == 503:
                time.sleep(0.01)
            else:
                with self.lock:
                    self.errors.append("%s: HTTP %d %s" % (key, status, body[:300]))
                self.stop.set()

    def snapshot(self):
        with self.lock:
            return dict(self.acked)


def check_acked(server, token, acked, seen, rng, replays):
    """Every acknowledged entry is stored, byte-identical to its first reading, and is the
    writer's command; `replays` random keys answer their first index. Returns problems."""
    problems = []
    client = KeepAlive(server.port)
    try:
        for key, (index, serial) in sorted(acked.items(), key=lambda kv: kv[1][0]):
            status, body = client.get("/v1/log/entries/%d" % index, token)
            if status != 200:
                problems.append("lost: %s acknowledged as %d, GET answers %d %s" %
                                (key, index, status, body[:200]))
                continue
            if index in seen:
                if seen[index] != body:
                    problems.append("entry %d changed after a restart" % index)
                continue
            payload = json.loads(body)["payload"]
            if payload.get("clientId") != key or payload.get("serials") != [serial]:
                problems.append("entry %d is not %s's command: %s" % (index, key, body[:300]))
            seen[index] = body
        keys = sorted(acked)
        for key in rng.sample(keys, min(replays, len(keys))):
            index, serial = acked[key]
            status, body = client.post("/v1/commission", token, key,
                                       {"gtin": fx.GTIN, "lot": fx.LOT, "location": fx.GLN,
                                        "serials": [serial]})
            if status != 201 or json.loads(body)["index"] != index:
                problems.append("duplicated: replaying %s (index %d) answered %d %s" %
                                (key, index, status, body[:200]))
    finally:
        client.close()
    return problems


def main():
    if len(sys.argv) < 2:
        fx.fail("usage: kill_loop.py PEDIGREE_BINARY [WORK_DIR]")
    binary = os.path.abspath(sys.argv[1])
    kills = int(os.environ.get("DURABILITY_KILLS", "24"))
    seed = int(os.environ.get("DURABILITY_SEED", "18"))
    writers = int(os.environ.get("DURABILITY_WRITERS", "4"))
    work = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="pedigree-kill-")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    rng = random.Random(seed)
    print("kill loop: %d kills, %d writers, seed %d, in %s" % (kills, writers, seed, work),
          flush=True)

    env, token = fx.make_ledger(binary, work)
    server = fx.Server(binary, env, os.path.join(work, "serve.log"))
    server.start()
    _, note = fx.request(server.port, "GET", "/v1/log/checkpoint")
    setup_size = int(note.decode().split("\n")[1])  # entries before the load
    started = time.monotonic()
    load = Load(server, token, writers)
    for t in load.threads:
        t.start()

    seen = {}  # index -> entry bytes, as first read
    problems = []
    for k in range(kills):
        time.sleep(rng.uniform(0.02, 0.25))  # load runs; the kill lands at a random moment
        if load.stop.is_set():
            break
        server.kill9()
        time.sleep(rng.uniform(0.0, 0.05))  # writers meet a dead server too
        server.start()
        # The writers pause while the checker reads, so that each check is bounded by what
        # was written under load, not by what is written while it reads.
        load.running.clear()
        time.sleep(0.05)
        acked = load.snapshot()
        found = check_acked(server, token, acked, seen, rng, replays=5)
        load.running.set()
        print("kill %2d: acked %d, checked" % (k + 1, len(acked)), flush=True)
        if found:
            problems += found
            break
    load.stop.set()
    for t in load.threads:
        t.join(timeout=30)
    problems += load.errors

    # Final: every acknowledged entry once more, every acknowledged key replayed, and every
    # clientId on the whole log at most once.
    acked = load.snapshot()
    if not problems:
        problems += check_acked(server, token, acked, seen, rng, replays=len(acked))
    status, note = fx.request(server.port, "GET", "/v1/log/checkpoint")
    size = int(note.decode().split("\n")[1])
    counts = {}
    client = KeepAlive(server.port)
    for i in range(setup_size, size):
        status, body = client.get("/v1/log/entries/%d" % i, token)
        if status != 200:
            problems.append("entry %d of %d unreadable: %d" % (i, size, status))
            continue
        cid = json.loads(body)["payload"].get("clientId", "")
        if re.fullmatch(r"w\d+-\d{6}", cid):
            counts[cid] = counts.get(cid, 0) + 1
    client.close()
    server.stop()
    stored_twice = sum(n - 1 for n in counts.values() if n > 1)
    # A replay that does not answer its first index is an idempotency failure even when the
    # rules refuse the second copy (a commission's serial cannot be stored twice).
    duplicated = stored_twice + sum(1 for p in problems if p.startswith("duplicated"))
    lost = sum(1 for p in problems if p.startswith("lost"))
    unacked_stored = len(set(counts) - set(acked))

    audit = fx.run(binary, ["log", "audit"], env, check=False)
    try:
        report = json.loads(audit.stdout)
    except ValueError:
        report = {}
    derived = report.get("derived", {})
    if audit.returncode != 0 or not report.get("ok") or not derived.get("ok"):
        problems.append("log audit: exit %d %s%s" % (audit.returncode, audit.stdout[:2000],
                                                    audit.stderr[:500]))
    print("log audit: %s entries, %s replayed, ok=%s derived ok=%s" %
          (report.get("entries"), derived.get("entries_replayed"), report.get("ok"),
           derived.get("ok")))
    print("stored but never acknowledged (in flight at a kill, not retried): %d" %
          unacked_stored)
    print("%.1f s" % (time.monotonic() - started))
    print("acked %d lost %d duplicated %d" % (len(acked), lost, duplicated), flush=True)
    if stored_twice:
        problems.append("%d clientIds stored more than once" % stored_twice)
    if len(acked) < kills:
        problems.append("only %d acknowledged writes: the load did not run" % len(acked))
    for p in problems[:20]:
        print("  " + p)
    if problems:
        fx.fail("%d problems (ledger kept in %s)" % (len(problems), work))
    shutil.rmtree(work, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
