"""Throughput and p99 latency against concurrency, per package and task, ours beside the reference.

The reference serves one request at a time, so its closed-loop throughput is flat at 1 / latency
and its p99 at c clients is c × its latency (queueing); both are drawn from its measured latency
and labelled as derived. Its batched run is drawn at the batch size it used.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def plot_results(results: dict, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for package in results["packages"]:
        name = Path(package["package"]).name
        points = [p for p in package.get("closed_loop", []) if p["protocol"] == "rest"]
        for task in sorted({p["task"] for p in points}):
            fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
            for mode, style in (("batching", "o-"), ("max_batch_size=1", "s--")):
                series = sorted(
                    (p["concurrency"], p["result"]) for p in points if p["task"] == task and p["mode"] == mode
                )
                if not series:
                    continue
                xs = [c for c, _ in series]
                left.plot(xs, [r["throughput"] for _, r in series], style, label=f"mplug2-serve ({mode})")
                right.plot(xs, [r["p99_ms"] / 1e3 for _, r in series], style, label=f"mplug2-serve ({mode})")
            ref = {
                (r["task"], r["batch"]): r
                for r in package.get("reference", {}).get("points", [])
                if r["frames"] == 1
            }
            single = ref.get((task, 1))
            xs = sorted({p["concurrency"] for p in points if p["task"] == task})
            if single and xs:
                left.plot(
                    xs, [single["requests_per_s"]] * len(xs), "k:", label="PyTorch eager, one at a time"
                )
                right.plot(
                    xs,
                    [c * single["median_s"] for c in xs],
                    "k:",
                    label="PyTorch eager, one at a time (c × latency)",
                )
            batched = [r for (t, b), r in ref.items() if t == task and b > 1]
            for r in batched:
                left.plot(
                    [r["batch"]],
                    [r["requests_per_s"]],
                    "kx",
                    markersize=9,
                    label=f"PyTorch eager, batch {r['batch']}",
                )
            left.set(
                xlabel="concurrent clients",
                ylabel="requests / s",
                title=f"{name}: {task} throughput",
                xscale="log",
                yscale="log",
            )
            right.set(
                xlabel="concurrent clients",
                ylabel="p99 latency (s)",
                title=f"{name}: {task} p99",
                xscale="log",
                yscale="log",
            )
            for axis in (left, right):
                axis.grid(True, alpha=0.3)
                axis.legend(fontsize=7)
            fig.tight_layout()
            path = out_dir / f"{name}-{task}.png"
            fig.savefig(path, dpi=90)
            plt.close(fig)
            written.append(path)
    return written
