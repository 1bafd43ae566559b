#!/usr/bin/env python3
"""front_door.py: the front-door attacks of tests/server/front_door, pointed at any running OpenAI server.

Measures one server (duet serve, llama-server, ...) already listening on --url, whose process id is --pid:
  1. anonymous memory (RssAnon) idle;
  2. hostile requests: bad Content-Length values, a header flood, a 64 MiB chunked body, a gzip bomb (1 KiB that
     inflates to 1 GiB), each answered or not, and whether the server is still up after them;
  3. --clients slowloris connections (a partial request head, one more byte every second) held for --seconds
     while one client asks GET /health every 50 ms: its latency p50/p99 and how many answered;
  4. RssAnon peak during the attacks and 3 s after them.
Run it against duet and the other server in the same minutes (bench/compare.sh style); the figures are printed as
one Markdown row. A measuring tool, not a test: it asserts nothing.

usage: bench/front_door.py --url http://127.0.0.1:8080 [--pid PID] [--clients 1000] [--seconds 10] [--label NAME]
"""
import argparse
import gzip
import re
import resource
import socket
import statistics
import subprocess
import threading
import time
import urllib.parse


def rss_anon_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


def exchange(host, port, payload, timeout=10.0, read_limit=65536):
    """Sends payload (bytes or a generator of bytes), returns the status line's code or an error word."""
    try:
        s = socket.create_connection((host, port), timeout=timeout)
    except OSError as e:
        return f"connect:{e.errno}"
    try:
        chunks = [payload] if isinstance(payload, bytes) else payload
        for c in chunks:
            s.sendall(c)
        data = b""
        while b"\r\n" not in data and len(data) < read_limit:
            got = s.recv(4096)
            if not got:
                break
            data += got
        if not data:
            return "closed"
        parts = data.split(b" ", 2)
        return parts[1].decode() if len(parts) > 1 else "garbled"
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return f"error:{e.errno}"
    finally:
        s.close()


def hostile(host, port):
    head = f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
    cases = {}
    cases["content-length -1"] = (head + "Content-Length: -1\r\n\r\n").encode()
    cases["content-length 1e12"] = (head + "Content-Length: 1000000000000\r\n\r\n").encode()
    cases["content-length x"] = (head + "Content-Length: abc\r\n\r\n").encode()
    cases["two content-lengths"] = (head + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello").encode()
    cases["header flood (10k headers)"] = (head + "".join(f"X-F{i}: {i}\r\n" for i in range(10000)) + "\r\n").encode()

    def chunked_bomb():
        yield (head + "Transfer-Encoding: chunked\r\n\r\n").encode()
        block = b"a" * (1 << 20)
        for _ in range(64):
            yield b"100000\r\n" + block + b"\r\n"
        yield b"0\r\n\r\n"

    cases["64 MiB chunked body"] = chunked_bomb()
    bomb = gzip.compress(b"\0" * (1 << 30), compresslevel=9)
    cases[f"gzip bomb ({len(bomb) // 1024} KiB -> 1 GiB)"] = (
        head + f"Content-Encoding: gzip\r\nContent-Length: {len(bomb)}\r\n\r\n"
    ).encode() + bomb
    results = {}
    for name, payload in cases.items():
        results[name] = exchange(host, port, payload)
    return results


def health_ok(host, port):
    return exchange(host, port, f"GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode(), timeout=5.0) == "200"


def slowloris(host, port, clients, seconds, pid):
    opened = []
    for i in range(clients):
        try:
            # From 127.0.1.1-50: many attackers, none of them the measuring client's 127.0.0.1 (a server may cap
            # connections per client address, as duet does).
            s = socket.create_connection((host, port), timeout=2.0, source_address=(f"127.0.1.{1 + i % 50}", 0))
            s.sendall(f"GET /health HTTP/1.1\r\nHost: {host}\r\nX-Slow-{i}: ".encode())
            s.setblocking(False)
            opened.append(s)
        except OSError:
            pass
    latencies, failures, peak = [], 0, rss_anon_kib(pid)
    stop = threading.Event()

    def drip():
        while not stop.is_set():
            for s in list(opened):
                try:
                    s.send(b"a")
                except OSError:
                    opened.remove(s)
            stop.wait(1.0)

    dripper = threading.Thread(target=drip)
    dripper.start()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.perf_counter()
        ok = exchange(host, port, f"GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode(), timeout=5.0) == "200"
        if ok:
            latencies.append((time.perf_counter() - t0) * 1000)
        else:
            failures += 1
        peak = max(peak, rss_anon_kib(pid))
        time.sleep(0.05)
    stop.set()
    dripper.join()
    still_open = len(opened)
    for s in opened:
        s.close()
    return latencies, failures, peak, still_open


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--pid", type=int, help="the server's process (default: the one listening on --url's port)")
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--label", default="server")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, a.clients + 256)), hard))
    u = urllib.parse.urlparse(a.url)
    host, port = u.hostname, u.port or 80
    if a.pid is None:
        out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
        m = re.search(r"pid=(\d+)", out)
        if not m:
            raise SystemExit(f"no process listens on port {port} (or ss cannot see it): pass --pid")
        a.pid = int(m.group(1))

    idle = rss_anon_kib(a.pid)
    results = hostile(host, port)
    alive_after_hostile = health_ok(host, port)
    peak_hostile = rss_anon_kib(a.pid)
    latencies, failures, peak, still_open = slowloris(host, port, a.clients, a.seconds, a.pid)
    time.sleep(3)
    after = rss_anon_kib(a.pid)
    alive = health_ok(host, port)

    print(f"## {a.label} ({a.url}, pid {a.pid})")
    for name, code in results.items():
        print(f"- {name}: {code}")
    print(f"- /health after the hostile requests: {'200' if alive_after_hostile else 'NO ANSWER'}")
    q = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [float("nan")] * 99
    print(f"- {a.clients} slow clients for {a.seconds:.0f} s: /health answered {len(latencies)}, failed {failures}, "
          f"p50 {q[49]:.2f} ms, p99 {q[98]:.2f} ms; slow connections still open at the end: {still_open}")
    print(f"- RssAnon idle {idle / 1024:.1f} MiB, after the hostile requests {peak_hostile / 1024:.1f} MiB, "
          f"peak {max(peak, peak_hostile) / 1024:.1f} MiB, 3 s after {after / 1024:.1f} MiB; "
          f"/health at the end: {'200' if alive else 'NO ANSWER'}")


if __name__ == "__main__":
    main()
