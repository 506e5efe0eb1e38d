#!/usr/bin/env python3
"""Resident memory of mplug2-serve after closed-loop load, against the weights it serves.

Starts the release server on one package with the benchmark suite's flags, waits for readiness,
runs a shortened version of the suite's REST load points (caption, vqa, embed_text at c=1 and
c=32, embed_image at c=1; one 480x270 PNG), then reads VmRSS / VmHWM from /proc/PID/status,
and again after some idle seconds. The ratio is RSS / served weights, where served weights are
every *.onnx and *.onnx.data of the package except decoder_full* (bench/src/suite/probe.rs).

Usage: scripts/measure-memory-after-load.py PACKAGE_DIR [--rounds N] [--idle S] [-- EXTRA SERVER ARGS]
Environment: BIN (default target/release/mplug2-serve, or $CARGO_TARGET_DIR/release/...),
ORT_DYLIB_PATH (default: scripts/fetch-ort.sh), PORT (default 18700). Environment variables
such as MALLOC_ARENA_MAX pass through to the server.
"""

import argparse
import base64
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
IMAGE = ROOT / "models/demo/goldens/inputs/image_480x270.png"
QUESTION = "what is the man doing in the video?"
SUITE_FLAGS = [
    "--intra-op-threads", "2",
    "--vision-cache-bytes", "0",
    "--request-timeout-ms", "900000",
    "--max-concurrent-requests", "512",
]


def served_weight_bytes(package: Path) -> int:
    return sum(
        p.stat().st_size
        for p in package.iterdir()
        if (p.name.endswith(".onnx") or p.name.endswith(".onnx.data"))
        and not p.name.startswith("decoder_full")
    )


def status(pid: int) -> dict:
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                fields[key] = int(rest.split()[0]) * 1024
    return fields


def gb(n: int) -> str:
    return f"{n / 1e9:.2f} GB"


def metric(base: str, name: str) -> float:
    text = requests.get(f"{base}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if re.match(rf"^{name}(\{{|\s)", line)
    )


def closed_loop(url: str, body: dict, clients: int, per_client: int) -> tuple[float, int]:
    """`clients` threads each send `per_client` requests back to back; (seconds, requests ok)."""
    ok = [0]
    lock = threading.Lock()
    errors = []

    def client():
        session = requests.Session()
        for _ in range(per_client):
            r = session.post(url, json=body, timeout=900)
            if r.status_code == 200:
                with lock:
                    ok[0] += 1
            else:
                errors.append(f"{r.status_code} {r.text[:200]}")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        print(f"  {len(errors)} failed, first: {errors[0]}", file=sys.stderr)
    return time.monotonic() - started, ok[0]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("package", type=Path)
    parser.add_argument("--rounds", type=int, default=3, help="requests per client at c=32")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds idle before the last sample")
    parser.add_argument("--ready-timeout", type=float, default=600.0)
    parser.add_argument("--label", default="")
    parser.add_argument(
        "--probe-trim", action="store_true",
        help="diagnosis: at the end, print glibc's per-arena statistics (malloc_stats, into the "
        "server log) and call malloc_trim(0) in the server through gdb, then sample RSS again",
    )
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parser.parse_args(argv[: len(argv) - len(extra) - (1 if extra else 0)])
    args.extra = extra

    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    binary = os.environ.get("BIN", str(target / "release/mplug2-serve"))
    env = dict(os.environ)
    if "ORT_DYLIB_PATH" not in env:
        env["ORT_DYLIB_PATH"] = subprocess.check_output(
            [str(ROOT / "scripts/fetch-ort.sh")], text=True
        ).strip()
    port = int(os.environ.get("PORT", "18700"))
    base = f"http://127.0.0.1:{port}"
    log = tempfile.NamedTemporaryFile(prefix="mplug2-mem-", suffix=".log", delete=False)
    command = [
        binary, "--model-dir", str(args.package),
        "--http-addr", f"127.0.0.1:{port}", "--grpc-addr", f"127.0.0.1:{port + 1}",
        *SUITE_FLAGS, *args.extra,
    ]
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + args.ready_timeout
        while True:
            if server.poll() is not None:
                print(f"server exited; log: {log.name}", file=sys.stderr)
                return 1
            try:
                if requests.get(f"{base}/health/ready", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                print(f"not ready after {args.ready_timeout} s; log: {log.name}", file=sys.stderr)
                return 1
            time.sleep(1)
        weights = served_weight_bytes(args.package)
        ready = status(server.pid)

        image = base64.b64encode(IMAGE.read_bytes()).decode()
        points = [
            ("caption", "/v1/caption", {"image": image}),
            ("vqa", "/v1/vqa", {"image": image, "question": QUESTION}),
            ("embed_text", "/v1/embeddings", {"input": ["a man is playing a guitar"]}),
        ]
        timings = {}
        for name, path, body in points:
            for clients, per_client in ((1, 2), (32, args.rounds)):
                seconds, ok = closed_loop(base + path, body, clients, per_client)
                timings[f"{name} c={clients}"] = (seconds, ok)
                print(
                    f"  {name} c={clients}: {ok} ok in {seconds:.1f} s "
                    f"({ok / seconds:.2f}/s); RSS {gb(status(server.pid)['VmRSS'])}",
                    file=sys.stderr,
                )
        seconds, ok = closed_loop(
            base + "/v1/embeddings", {"input": [{"image": image}]}, 1, 2
        )
        timings["embed_image c=1"] = (seconds, ok)
        after = status(server.pid)
        cross_kv = metric(base, "mplug2_cross_kv_cache_bytes")
        time.sleep(args.idle)
        idle = status(server.pid)

        trimmed = None
        if args.probe_trim:
            subprocess.run(
                ["gdb", "-p", str(server.pid), "-batch", "-ex", "call (void)malloc_stats()",
                 "-ex", "call (int)malloc_trim(0)"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
            )
            trimmed = status(server.pid)["VmRSS"]
            print(f"  after malloc_trim(0): {gb(trimmed)} (malloc_stats in {log.name})",
                  file=sys.stderr)

        result = {
            "label": args.label or " ".join(args.extra) or "default",
            "package": str(args.package),
            "weights": weights,
            "ready_rss": ready["VmRSS"],
            "after_rss": after["VmRSS"],
            "after_anon": after["RssAnon"],
            "idle_rss": idle["VmRSS"],
            "peak_rss": idle["VmHWM"],
            "trimmed_rss": trimmed,
            "cross_kv_cache_bytes_after": cross_kv,
            "caption_c32_per_s": timings["caption c=32"][1] / timings["caption c=32"][0],
            "vqa_c32_per_s": timings["vqa c=32"][1] / timings["vqa c=32"][0],
        }
        print(json.dumps(result))
        print(
            f"{result['label']}: weights {gb(weights)}; ready {gb(ready['VmRSS'])} "
            f"({ready['VmRSS'] / weights:.2f}x); after load {gb(after['VmRSS'])} "
            f"({after['VmRSS'] / weights:.2f}x); idle {gb(idle['VmRSS'])} "
            f"({idle['VmRSS'] / weights:.2f}x); peak {gb(idle['VmHWM'])}; "
            f"caption c=32 {result['caption_c32_per_s']:.2f}/s",
            file=sys.stderr,
        )
        return 0
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    sys.exit(main())
