#!/usr/bin/env python3
"""test_compare_report.py: bench/compare_report.py (the report of bench/compare.sh) on fabricated raw files:
medians over the alternations, the duet / llama.cpp ratios, the rows marked when a run's bandwidth probe was low,
llama.cpp's tg GB/s and the lead ceiling, the served table, duet's 4-stream / 1-stream TPOT and the served runs'
probes; and that bench/compare.sh refuses a held port before it runs anything. Stdlib only:
python3 tests/bench/test_compare_report.py REPO_ROOT."""

import json
import os
import socket
import stat
import subprocess
import sys
import tempfile
import unittest

REPO = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")


def write(path, value):
    with open(path, "w", encoding="utf-8") as f:
        f.write(value if isinstance(value, str) else json.dumps(value))


def llama_bench(pp, tg):
    return [{"n_prompt": 512, "n_gen": 0, "avg_ts": pp, "build_commit": "abc1234", "build_number": 42},
            {"n_prompt": 0, "n_gen": 128, "avg_ts": tg}]


def duet_bench(pp, tg, probe, fraction):
    return {"read_bandwidth_gbs": probe, "read_bandwidth_method": "avx512 4x64B",
            "results": [{"n_prompt": 512, "n_gen": 0, "tokens_per_second": pp},
                        {"n_prompt": 0, "n_gen": 128, "tokens_per_second": tg, "gbs": tg * 0.9,
                         "bandwidth_fraction": fraction}]}


def serve(tps1, tpot1, tps4, tpot4, failed4=0):
    def level(c, tps, tpot, failed):
        return {"concurrency": c, "completed": 12 - failed, "failed": failed, "output_token_throughput": tps,
                "tpot": {"median_ms": tpot}}
    return {"requests": 12, "prompt_tokens": 90, "max_tokens": 64,
            "levels": [level(1, tps1, tpot1, 0), level(4, tps4, tpot4, failed4)]}


class CompareReport(unittest.TestCase):
    def report(self, raw):
        out = subprocess.run([sys.executable, os.path.join(REPO, "bench", "compare_report.py"), raw, "--llama-cpp",
                              "/opt/llama.cpp", "--threads", "2", "--reps", "3", "--alternations", "3",
                              "--parallel", "4"], capture_output=True, text=True, check=True)
        return out.stdout

    def fixture(self, raw, duet_probes):
        write(os.path.join(raw, "started"), "2026-12-03 10:00 UTC")
        write(os.path.join(raw, "load_start"), "0.10 0.20 0.30")
        write(os.path.join(raw, "load_end"), "1.00 1.10 1.20")
        write(os.path.join(raw, "duet_version"), "duet 0.1.0 commit 1234567")
        write(os.path.join(raw, "bench.0.spec"), "r1:q4_0 /m/r1.gguf 512 128")
        for a, (lpp, ltg, dpp, dtg) in enumerate([(150, 50, 450, 80), (160, 48, 440, 70), (155, 49, 460, 90)], 1):
            write(os.path.join(raw, f"bench.0.llama.{a}.json"), llama_bench(lpp, ltg))
            write(os.path.join(raw, f"bench.0.duet.{a}.json"), duet_bench(dpp, dtg, duet_probes[a - 1], 0.8))
        write(os.path.join(raw, "serve.spec"), "r1:q4_0 /m/r1.gguf")
        for a in (1, 2, 3):
            write(os.path.join(raw, f"serve.llama.{a}.json"), serve(30 + a, 22.0, 45 + a, 55.0, failed4=1))
            write(os.path.join(raw, f"serve.duet.{a}.json"), serve(60 + a, 12.0, 130 + a, 16.0))

    def test_medians_ratios_and_served_table(self):
        with tempfile.TemporaryDirectory() as raw:
            self.fixture(raw, [95.0, 94.0, 96.0])
            text = self.report(raw)
        self.assertIn("## duet vs llama.cpp on this machine, 2026-12-03 10:00 UTC", text)
        self.assertIn("llama.cpp abc1234 (build 42) from /opt/llama.cpp", text)
        # pp: llama median 155 of 150/160/155, duet 450 of 450/440/460 -> 2.90x
        self.assertIn("| r1:q4_0 | pp512 | 155.00 (150.0 / 160.0 / 155.0) | 450.00 (450.0 / 440.0 / 460.0) | 2.90× |",
                      text)
        # tg: 49 vs 80 -> 1.63x; GB/s median 72.0 (0.9 x 80), 80% of the probe
        self.assertIn("| r1:q4_0 | tg128 | 49.00 (50.0 / 48.0 / 49.0) | 80.00 (80.0 / 70.0 / 90.0) | 1.63× | "
                      "72.0 GB/s, 80% |", text)
        # llama.cpp's tg read the same 0.9 GB a token (duet's GB/s over its tok/s): 49 x 0.9 = 44.1 GB/s, 46% of the
        # runs' median probe (95), so no program reading those bytes at the probe's rate leads it by more than 2.15x
        self.assertIn("72.0 GB/s, 80% | 44.1 GB/s, 46%, ceiling 2.15× |", text)
        self.assertIn("lead ceiling: duet's probe over llama.cpp's tg GB/s", text)
        self.assertRegex(text, r"\| r1:q4_0 \| pp512 \|[^\n]*\| 2\.90× \|  \|  \|\n")  # pp rows: both GB/s cells empty
        self.assertNotIn("†", text)  # every probe within 80% of the best
        # served: 1 stream 62 vs 32 tok/s -> 1.94x, TPOT 12 vs 22 -> 0.55x; 4 streams 132 vs 47 -> 2.81x; failures
        self.assertIn("| 1 | 32.0 (31.0 / 32.0 / 33.0) | 62.0 (61.0 / 62.0 / 63.0) | 1.94× | 22.0 (22 / 22 / 22) | "
                      "12.0 (12 / 12 / 12) | 0.55× | 0 / 0 |", text)
        self.assertIn("| 4 | 47.0 (46.0 / 47.0 / 48.0) | 132.0 (131.0 / 132.0 / 133.0) | 2.81× |", text)
        self.assertIn("| 3 / 0 |", text)
        # duet's own scaling: 16 / 12 ms at every alternation
        self.assertIn("duet's TPOT at 4 streams against 1 stream's: 1.33× (16.0 / 12.0 ms; per alternation "
                      "1.33× / 1.33× / 1.33×).", text)
        self.assertNotIn("probe before each alternation", text)  # no served probes in this fixture

    def test_served_probes_and_a_low_one(self):
        with tempfile.TemporaryDirectory() as raw:
            self.fixture(raw, [95.0, 94.0, 96.0])
            for a, probe in enumerate([94.0, 93.0, 92.0, 91.0], 1):
                write(os.path.join(raw, f"serve_probe.{a}.json"), {"read_bandwidth_gbs": probe})
            quiet = self.report(raw)
            write(os.path.join(raw, "serve_probe.3.json"), {"read_bandwidth_gbs": 60.0})
            noisy = self.report(raw)
        self.assertIn("duet's read-bandwidth probe before each alternation and after the last: 94.0, 93.0, 92.0, "
                      "91.0 GB/s.", quiet)
        self.assertNotIn("†", quiet)
        self.assertIn("94.0, 93.0, 60.0, 91.0 GB/s — † 1 under 80% of the best (96.0 GB/s)", noisy)

    def test_low_probe_marks_the_model(self):
        with tempfile.TemporaryDirectory() as raw:
            self.fixture(raw, [95.0, 55.0, 96.0])  # another guest took the memory bus during run 2
            text = self.report(raw)
        self.assertIn("| r1:q4_0 † | pp512 |", text)
        self.assertIn("| r1:q4_0 † | tg128 |", text)
        self.assertIn("† in at least one duet bench run of this model the probe read under 80% of the best (96.0 GB/s)",
                      text)


class ComparePorts(unittest.TestCase):
    """compare.sh starts its servers ~13 minutes in: a port held by a server left running must fail at once."""

    def test_a_held_port_fails_before_anything_runs(self):
        with tempfile.TemporaryDirectory() as tmp:
            for tool in ("llama-bench", "llama-server"):  # stubs: the check comes before either runs
                path = os.path.join(tmp, tool)
                write(path, "#!/bin/sh\nexit 0\n")
                os.chmod(path, stat.S_IRWXU)
            held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.bind(("127.0.0.1", 0))
            held.listen(1)
            port = held.getsockname()[1]
            out = os.path.join(tmp, "out")
            try:
                r = subprocess.run(["bash", os.path.join(REPO, "bench", "compare.sh"), "--llama-cpp", tmp,
                                    "--duet", "/bin/true", "--out", out, "--port", str(port)],
                                   capture_output=True, text=True, timeout=30)
            finally:
                held.close()
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("port %d on 127.0.0.1 is in use" % port, r.stderr)
            self.assertFalse(os.path.exists(os.path.join(out, "raw")), "nothing ran, nothing was written")


if __name__ == "__main__":
    unittest.main()
