#!/usr/bin/env python3
# Idle keep-alive connections against the chassis (bench_http_verify_chassis --serve): opens
# N connections, sends one request on each so that each has allocated its buffers, leaves
# them idle and prints the server's RSS before and after, its thread count, and whether
# another client is still served. Target (issue 18): 10,000 held with <= 200 MB RSS.
# Usage: ulimit -n 20000; bench/http_idle_connections.py build/bench/bench_http_verify_chassis 10000
import socket, sys, subprocess, time, re
proc = subprocess.Popen([sys.argv[1], "--serve", "120"], stdout=subprocess.PIPE, text=True)
line = proc.stdout.readline()
port = int(re.search(r":(\d+)/", line).group(1))
def rss():
    for l in open(f"/proc/{proc.pid}/status"):
        if l.startswith("VmRSS"): return int(l.split()[1]) // 1024
before = rss()
n = int(sys.argv[2])
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port)); socks.append(s)
# one request on each so every connection has allocated its buffers, then idle
for s in socks:
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
for s in socks:
    s.recv(4096)
time.sleep(1)
after = rss()
threads = len(__import__("os").listdir(f"/proc/{proc.pid}/task"))
print(f"{n} idle keep-alive connections: RSS {before} MB -> {after} MB, server threads {threads}")
s = socket.create_connection(("127.0.0.1", port)); s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
print("another client:", s.recv(4096).split(b"\r\n")[0])
proc.kill()
