#!/usr/bin/env python3
"""proxy_overhead.py: what `duet serve --upstream` adds to TTFT and to each streamed chunk, on loopback.

Starts a stamping upstream (an OpenAI-shaped /v1/chat/completions that streams --chunks SSE events, one every
--interval-ms, each carrying the CLOCK_MONOTONIC nanosecond at which it was written), starts
`duet serve --upstream up=http://127.0.0.1:PORT/v1` in front of it, then alternates --rounds rounds of --requests
streamed requests sent directly to the upstream and through duet, with the same client. Per request:
  TTFT        = first content chunk received - request sent (client clock);
  chunk delay = chunk received - chunk written by the upstream (the same monotonic clock: one machine).
Prints p50 / p99 of each, direct and through duet, and the difference: what the proxy adds.
A measuring tool, not a test: it asserts nothing. Run it on a quiet machine.

usage: bench/proxy_overhead.py --duet build/duet [--requests 200] [--rounds 3] [--chunks 32] [--interval-ms 2]
"""
import argparse
import http.client
import json
import socket
import statistics
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stamper(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    chunks = 32
    interval = 0.002

    def log_message(self, *args):
        pass

    def do_GET(self):  # health checks: /v1/models
        body = json.dumps({"object": "list", "data": [{"id": "stamp", "object": "model"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i in range(self.chunks):
            if i:
                time.sleep(self.interval)
            event = {"id": "c", "object": "chat.completion.chunk", "model": "stamp",
                     "choices": [{"index": 0, "delta": {"content": f"t{i} "}, "finish_reason": None}],
                     "t_ns": time.monotonic_ns()}
            self.write_chunk(b"data: " + json.dumps(event).encode() + b"\n\n")
        self.write_chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def write_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


def one_request(port, model):
    """Returns (ttft_ns, [chunk delays ns]) for one streamed request."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"model": model, "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    sent = time.monotonic_ns()
    conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError(f"HTTP {resp.status}: {resp.read()[:200]!r}")
    ttft, delays = None, []
    while True:
        line = resp.readline()
        if not line:
            break
        now = time.monotonic_ns()
        if not line.startswith(b"data: {"):
            continue
        event = json.loads(line[6:])
        if "t_ns" not in event:
            continue  # an event duet added (none expected for a pass-through)
        if ttft is None:
            ttft = now - sent
        delays.append(now - event["t_ns"])
    conn.close()
    return ttft, delays


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duet", default="build/duet")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--chunks", type=int, default=32)
    ap.add_argument("--interval-ms", type=float, default=2.0)
    args = ap.parse_args()

    Stamper.chunks, Stamper.interval = args.chunks, args.interval_ms / 1000
    up_port, duet_port = free_port(), free_port()
    upstream = ThreadingHTTPServer(("127.0.0.1", up_port), Stamper)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    duet = subprocess.Popen([args.duet, "serve", "--host", "127.0.0.1", "--port", str(duet_port),
                             "--upstream", f"up=http://127.0.0.1:{up_port}/v1#stamp", "--upstream-health", "0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                c = http.client.HTTPConnection("127.0.0.1", duet_port, timeout=1)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.05)
        else:
            raise SystemExit("duet serve did not come up")
        results = {"direct": ([], []), "duet": ([], [])}
        for _ in range(3):  # warm both paths
            one_request(up_port, "stamp")
            one_request(duet_port, "up")
        for _ in range(args.rounds):
            for label, port, model in (("direct", up_port, "stamp"), ("duet", duet_port, "up")):
                for _ in range(args.requests):
                    ttft, delays = one_request(port, model)
                    results[label][0].append(ttft)
                    results[label][1].extend(delays)
        ms = lambda ns: ns / 1e6
        print(f"requests: {args.rounds} rounds x {args.requests} per path, {args.chunks} chunks every "
              f"{args.interval_ms} ms")
        print("| path | TTFT p50 | TTFT p99 | chunk delay p50 | chunk delay p99 | chunks |")
        print("|---|---|---|---|---|---|")
        for label in ("direct", "duet"):
            t, d = results[label]
            print(f"| {label} | {ms(pct(t, 50)):.3f} ms | {ms(pct(t, 99)):.3f} ms | {ms(pct(d, 50)):.3f} ms | "
                  f"{ms(pct(d, 99)):.3f} ms | {len(d)} |")
        (td, dd), (tp, dp) = results["direct"], results["duet"]
        print(f"| added by duet | {ms(pct(tp, 50) - pct(td, 50)):.3f} ms | {ms(pct(tp, 99) - pct(td, 99)):.3f} ms | "
              f"{ms(pct(dp, 50) - pct(dd, 50)):.3f} ms | {ms(pct(dp, 99) - pct(dd, 99)):.3f} ms | |")
    finally:
        duet.terminate()
        duet.wait(timeout=10)
        upstream.shutdown()


if __name__ == "__main__":
    main()
