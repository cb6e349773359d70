#!/usr/bin/env python3
# Slow clients against the chassis (bench_http_verify_chassis --serve): the verify rate
# (wrk -t2 -c32 -d SECONDS) alone, then while N slowloris connections each trickle one
# header line per second (reconnecting when the server's header deadline answers 408),
# alternated ROUNDS times; prints each pair's ratio. Target (issue 18): >= 0.8.
# Usage: ulimit -n 20000; bench/http_slowloris.py build/bench/bench_http_verify_chassis [N=500] [SECONDS=5] [ROUNDS=2]
import re, socket, statistics, subprocess, sys, threading, time

binary = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 500
seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 2
server = subprocess.Popen([binary, "--serve", str(rounds * seconds * 4 + 60)], stdout=subprocess.PIPE, text=True)
url = server.stdout.readline().split()[-1]
port = int(re.search(r":(\d+)/", url).group(1))

def wrk():
    out = subprocess.run(["wrk", "-t2", "-c32", f"-d{seconds}s", url], capture_output=True, text=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

stop = threading.Event()
refused = [0]
def slowloris():
    socks = []
    while not stop.is_set():
        while len(socks) < n:
            try:
                s = socket.create_connection(("127.0.0.1", port))
                s.setblocking(False)
                s.sendall(b"GET /v1/verify?code=x HTTP/1.1\r\n")
                socks.append(s)
            except OSError:
                break
        alive = []
        for s in socks:
            try:
                s.sendall(b"X-Slow: 1\r\n")
                try:
                    if s.recv(4096):  # the 408 (or 503): start over
                        refused[0] += 1
                        s.close()
                        continue
                except BlockingIOError:
                    pass
                alive.append(s)
            except OSError:
                s.close()
        socks = alive
        stop.wait(1.0)
    for s in socks:
        s.close()

print(f"# slowloris: {n} connections trickling a header line per second; wrk -t2 -c32, {seconds} s")
ratios = []
for r in range(rounds):
    alone = wrk()
    stop.clear()
    t = threading.Thread(target=slowloris)
    t.start()
    time.sleep(2)
    loaded = wrk()
    stop.set()
    t.join()
    ratios.append(loaded / alone)
    print(f"round {r + 1}: verify alone {alone:.0f}/s, with slowloris {loaded:.0f}/s, ratio {loaded / alone:.3f}")
print(f"slow heads answered (408/503) meanwhile: {refused[0]}; median ratio {statistics.median(ratios):.3f} (target >= 0.8)")
server.kill()
