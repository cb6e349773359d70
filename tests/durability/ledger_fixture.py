"""Shared by the durability tests: a small supply-chain ledger made with the CLI, a
`pedigree serve` child process, and a minimal HTTP client (standard library only)."""

import http.client
import json
import os
import socket
import subprocess
import sys
import time

GTIN = "09506000134352"
LOT = "L1"
GLN = "9506000000008"


def fail(message):
    print("FAIL: " + message, flush=True)
    sys.exit(1)


def run(binary, args, env, check=True):
    proc = subprocess.run([binary] + args, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        fail("pedigree %s exited %d: %s%s" % (" ".join(args), proc.returncode, proc.stdout,
                                            proc.stderr))
    return proc


def make_ledger(binary, work):
    """A ledger in work/ledger with one manufacturer (key held by the node), a product, a
    batch of a million packs and an API token for the manufacturer. Returns (env, token)."""
    ledger = os.path.join(work, "ledger")
    env = dict(os.environ, PEDIGREE_DIR=ledger)
    authority = os.path.join(work, "authority.pem")
    maker = os.path.join(work, "maker.pem")
    key = json.loads(run(binary, ["keygen", "--out", authority], env).stdout)["public_key"]
    run(binary, ["keygen", "--out", maker], env)
    run(binary, ["init", "--origin", "durability.test/log", "--supply-chain",
                 "--authority-public-key", key], env)
    run(binary, ["org", "register", "--authority-key", authority, "--id", "maker", "--name",
                 "Maker", "--roles", "manufacturer", "--prefixes", "9506000", "--glns", GLN,
                 "--key", maker, "--hold"], env)
    run(binary, ["product", "register", "--as", "maker", "--gtin", GTIN, "--name", "Drug"], env)
    run(binary, ["batch", "register", "--as", "maker", "--gtin", GTIN, "--lot", LOT, "--expiry",
                 "2099-12-31", "--quantity", "1000000"], env)
    token = json.loads(run(binary, ["token", "issue", "--org", "maker", "--roles",
                                    "manufacturer"], env).stdout)["token"]
    return env, token


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`pedigree serve` on a free port; start() waits until /healthz answers."""

    def __init__(self, binary, env, log_path):
        self.binary, self.env, self.log_path = binary, env, log_path
        self.port = free_port()
        self.proc = None

    def start(self, timeout=30.0):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--port", str(self.port), "--threads", "16",
             "--access-log", self.log_path + ".access"],
            env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                fail("pedigree serve exited %d at start-up (log: %s)" %
                     (self.proc.returncode, self.log_path))
            try:
                status, _ = request(self.port, "GET", "/healthz", timeout=1.0)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.02)
        fail("pedigree serve did not answer /healthz within %.0f s" % timeout)

    def kill9(self):
        self.proc.kill()  # SIGKILL
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill9()


def request(port, method, path, body=None, headers=None, timeout=10.0):
    """One request on a new connection: (status, body bytes). Raises OSError (and
    http.client exceptions, which are not OSErrors) when the server goes away."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        all_headers = dict(headers or {})
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=all_headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def commission(port, token, key, serial, timeout=10.0):
    return request(port, "POST", "/v1/commission",
                   {"gtin": GTIN, "lot": LOT, "location": GLN, "serials": [serial]},
                   {"Authorization": "Bearer " + token, "Idempotency-Key": key}, timeout)


def entry(port, token, index):
    return request(port, "GET", "/v1/log/entries/%d" % index,
                   headers={"Authorization": "Bearer " + token})
