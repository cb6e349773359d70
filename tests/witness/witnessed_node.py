#!/usr/bin/env python3
"""The node as a witness client, end to end with real processes over loopback HTTP:
three `pedigree witness serve`, a node `pedigree serve` with a 2-of-3 witness policy.

1. An event is appended; the published checkpoint (GET /v1/log/checkpoint) gains at least
   two cosignatures, and the pack's bundle verifies offline with `verify-bundle --policy`.
2. Two witnesses are stopped; the next checkpoint cannot meet the quorum, so the endpoint
   keeps answering the older witnessed checkpoint, and the errors are counted in /metrics.
   Restarted with witness_fail_open, the node publishes the newest checkpoint marked
   Pedigree-Witnessed: false, and still knows the witnessed size.
3. A fork: a second checkpoint of an already witnessed size with another root, signed with
   the log's own key (openssl), posted straight to the remaining witness, is refused
   (409 or 422).

Usage: witnessed_node.py PEDIGREE_BINARY [WORK_DIR]. Standard library and the openssl
command only; exit 77 (skipped) without openssl."""

import base64
import hashlib
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "durability"))
import ledger_fixture as fx  # noqa: E402

DASH = "\u2014 "


class Witness:
    def __init__(self, binary, work, name, log_vkey):
        self.name = name
        self.dir = os.path.join(work, name)
        out = fx.run(binary, ["witness", "init", "--dir", self.dir, "--name",
                              name + ".test/witness"], dict(os.environ)).stdout
        self.vkey = out.strip()
        self.log_path = os.path.join(work, name + ".log")
        self.out = open(self.log_path, "w+b")
        self.proc = subprocess.Popen(
            [binary, "witness", "serve", "--dir", self.dir, "--port", "0", "--log", log_vkey],
            stdout=self.out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        self.port = None
        while time.monotonic() < deadline and self.port is None:
            if self.proc.poll() is not None:
                fx.fail("witness %s exited at start-up" % name)
            self.out.seek(0)
            m = re.search(rb"serving http://[0-9.]+:(\d+)", self.out.read())
            if m:
                self.port = int(m.group(1))
            else:
                time.sleep(0.02)
        if self.port is None:
            fx.fail("witness %s did not say its port" % name)
        self.url = "http://127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def cosigners(note):
    """The names on a note's signature lines other than the log's own (its origin)."""
    origin = note.split("\n", 1)[0]
    names = [line[len(DASH):].split(" ")[0] for line in note.split("\n\n", 1)[1].splitlines()
             if line.startswith(DASH)]
    return [n for n in names if n != origin]


def checkpoint(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/v1/log/checkpoint")
        resp = conn.getresponse()
        return resp.status, resp.read().decode(), resp.getheader("Pedigree-Witnessed")
    finally:
        conn.close()


def post(port, path, body):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "text/plain"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def size_of(note):
    return int(note.split("\n")[1])


def wait_for(what, predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    fx.fail("timed out waiting for " + what)


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    if shutil.which("openssl") is None:
        print("SKIPPED: no openssl command")
        return 77
    binary = os.path.abspath(sys.argv[1])
    work = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="pedigree-witnessed-")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    started = time.monotonic()
    env, token = fx.make_ledger(binary, work)
    ledger = env["PEDIGREE_DIR"]
    log_vkey = open(os.path.join(ledger, "log.vkey")).read().strip()
    origin = log_vkey.split("+")[0]

    witnesses = [Witness(binary, work, "w%d" % i, log_vkey) for i in (1, 2, 3)]
    node = None
    try:
        policy = os.path.join(work, "policy")
        with open(policy, "w") as f:
            f.write("# 2 of 3 loopback witnesses\nlog %s\n" % log_vkey)
            for w in witnesses:
                f.write("witness %s %s %s\n" % (w.name, w.vkey, w.url))
            f.write("group two-of-three 2 w1 w2 w3\nquorum two-of-three\n")
        node_env = dict(env, PEDIGREE_WITNESS_POLICY=policy, PEDIGREE_WITNESS_TIMEOUT_MS="500")
        node = fx.Server(binary, node_env, os.path.join(work, "node.log"))
        node.start()

        # 1. Witnessed after an append.
        status, body = fx.commission(node.port, token, "k1", "S1")
        if status != 201:
            fx.fail("commission answered %d %s" % (status, body))
        first = json.loads(body)["index"]

        def witnessed_first():
            s, note, header = checkpoint(node.port)
            if s == 200 and size_of(note) > first and len(cosigners(note)) >= 2:
                return note, header
            return None
        note, header = wait_for("a checkpoint with 2 cosignatures", witnessed_first)
        if header != "true":
            fx.fail("Pedigree-Witnessed is %r" % header)
        print("witnessed size %d cosigned by %s" % (size_of(note), ", ".join(cosigners(note))))

        code = "(01)%s(21)S1" % fx.GTIN
        s, bundle = fx.request(node.port, "GET", "/v1/bundles/pack?code=" +
                               urllib.parse.quote(code), headers={"Authorization": "Bearer " + token})
        if s != 200:
            fx.fail("bundle answered %d %s" % (s, bundle))
        bundle_path = os.path.join(work, "s1.bundle.json")
        open(bundle_path, "wb").write(bundle)
        verify = fx.run(binary, ["verify-bundle", bundle_path, "--policy", policy], env,
                        check=False)
        if verify.returncode != 0 or not verify.stdout.startswith("VERIFIED"):
            fx.fail("verify-bundle --policy exited %d:\n%s%s" % (verify.returncode, verify.stdout,
                                                                 verify.stderr))
        print("verify-bundle --policy: VERIFIED")

        # 2. Two witnesses down: the next checkpoint is not witnessed.
        witnessed_size = size_of(note)
        witnesses[1].stop()
        witnesses[2].stop()
        status, body = fx.commission(node.port, token, "k2", "S2")
        if status != 201:
            fx.fail("commission answered %d %s" % (status, body))
        second = json.loads(body)["index"]

        def errors_counted():
            s, metrics = fx.request(node.port, "GET", "/metrics")
            text = metrics.decode()
            return ('pedigree_witness_errors_total{witness="w2"' in text and
                    'pedigree_witness_errors_total{witness="w3"' in text)
        wait_for("the errors of w2 and w3 in /metrics", errors_counted)
        s, note, header = checkpoint(node.port)
        if s != 200 or size_of(note) != witnessed_size or size_of(note) > second:
            fx.fail("after the outage the endpoint answered %d size %d, expected the witnessed "
                    "size %d" % (s, size_of(note), witnessed_size))
        print("two witnesses down: the endpoint still answers witnessed size %d (entry %d is "
              "not witnessed)" % (witnessed_size, second))

        # 2b. Restarted fail-open: the newest checkpoint is published, marked unwitnessed;
        # the witnessed size persisted across the restart.
        node.stop()
        node = fx.Server(binary, dict(node_env, PEDIGREE_WITNESS_FAIL_OPEN="true"),
                         os.path.join(work, "node-open.log"))
        node.start()
        s, note, header = checkpoint(node.port)
        if s != 200 or header != "false" or size_of(note) <= second:
            fx.fail("fail-open answered %d %r size %d" % (s, header, size_of(note)))
        s, metrics = fx.request(node.port, "GET", "/metrics")
        if "pedigree_witness_witnessed_size %d" % witnessed_size not in metrics.decode():
            fx.fail("the witnessed size %d did not survive the restart" % witnessed_size)
        print("fail-open: newest size %d published with Pedigree-Witnessed: false" %
              size_of(note))

        # 3. A fork of a size w1 has cosigned, signed with the log key, is refused.
        monitor = "/%s/checkpoint" % hashlib.sha256(origin.encode()).hexdigest()
        s, held = fx.request(witnesses[0].port, "GET", monitor)
        if s != 200:
            fx.fail("w1's monitoring endpoint answered %d" % s)
        size = size_of(held.decode())
        text = "%s\n%d\n%s\n" % (origin, size, base64.b64encode(b"\x07" * 32).decode())
        text_path = os.path.join(work, "fork.txt")
        open(text_path, "w").write(text)
        sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey",
                              os.path.join(ledger, "log-key.pem"), "-in", text_path],
                             capture_output=True, check=True).stdout
        key_id = bytes.fromhex(log_vkey.split("+")[1])
        fork = text + "\n" + DASH + origin + " " + base64.b64encode(key_id + sig).decode() + "\n"
        for old in (size, 0):
            s, answer = post(witnesses[0].port, "/add-checkpoint",
                             ("old %d\n\n" % old + fork).encode())
            if s not in (409, 422):
                fx.fail("the fork (old %d) was answered %d %s" % (old, s, answer))
            print("fork of size %d with old %d refused: %d" % (size, old, s))
    finally:
        if node:
            node.stop()
        for w in witnesses:
            w.stop()
    elapsed = time.monotonic() - started
    print("ok in %.1f s" % elapsed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
