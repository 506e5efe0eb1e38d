"""`python -m mplug2_exporter.perf <command>`: the Python side of the benchmark suite (`make bench-suite`).

reference  time the eager PyTorch baseline on a package      -> JSON
ort        peak fp32 GEMM, per-module MFU and an op profile   -> JSON
plot       throughput and p99 against concurrency (PNG)       <- the suite's JSON
int8       accuracy of int8 packages against fp32 (demo, base, large) -> JSON + markdown
int8-speed fp32 against int8: one linear layer, vision at batch 8, a decoder step -> JSON + markdown
isa        the CPU's ISA flags and the ONNX Runtime int8 GEMM kernel they select -> JSON
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def parse_points(values: list[str]) -> list[tuple[str, int, int]]:
    """task:frames:batch, e.g. caption:1:8."""
    points = []
    for value in values:
        task, frames, batch = value.split(":")
        points.append((task, int(frames), int(batch)))
    return points


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mplug2_exporter.perf")
    sub = parser.add_subparsers(dest="command", required=True)
    ref = sub.add_parser("reference")
    ref.add_argument("--package", type=Path, required=True)
    ref.add_argument("--point", action="append", required=True, help="task:frames:batch")
    ref.add_argument("--repeats", type=int, default=3)
    ref.add_argument("--threads", type=int, default=2)
    ref.add_argument("--out", type=Path, required=True)
    probe = sub.add_parser("ort")
    probe.add_argument("--package", type=Path, required=True)
    probe.add_argument("--threads", type=int, default=2)
    probe.add_argument("--quick", action="store_true")
    probe.add_argument("--out", type=Path, required=True)
    plot = sub.add_parser("plot")
    plot.add_argument("--results", type=Path, required=True)
    plot.add_argument("--out-dir", type=Path, required=True)
    int8 = sub.add_parser("int8")
    int8.add_argument("--sizes", default="demo,base,large", help="comma-separated: demo, base, large")
    int8.add_argument("--work-dir", type=Path, default=Path("/work/packages"), help="packages are made here")
    int8.add_argument("--inputs", type=int, default=50)
    int8.add_argument("--threads", type=int, default=2)
    int8.add_argument("--variant", action="append", default=[], help="a recipe variant, on the first size")
    int8.add_argument("--out", type=Path, required=True, help="JSON; the markdown goes beside it (.md)")
    speed = sub.add_parser("int8-speed")
    speed.add_argument("--fp32", type=Path, required=True)
    speed.add_argument("--int8", type=Path, required=True)
    speed.add_argument("--threads", type=int, default=2)
    speed.add_argument("--out", type=Path, required=True, help="JSON; the markdown goes beside it (.md)")
    random = sub.add_parser("random-package", help="make WORK_DIR/SIZE-random when it is missing")
    random.add_argument("--size", choices=["base", "large"], required=True)
    random.add_argument("--work-dir", type=Path, required=True)
    random.add_argument("--out", type=Path, required=True)
    isa = sub.add_parser("isa")
    isa.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    if args.command == "reference":
        from .reference import run_reference

        result = run_reference(args.package, parse_points(args.point), args.repeats, args.threads)
    elif args.command == "ort":
        from .mfu_plan import run_probes

        result = run_probes(args.package, args.threads, args.quick, args.out.parent)
    elif args.command == "int8":
        from .int8_study import markdown, run_study

        logging.basicConfig(level=logging.INFO, format="%(message)s")
        result = run_study(args.sizes.split(","), args.work_dir, args.inputs, args.threads, args.variant)
        args.out.with_suffix(".md").write_text(markdown(result))
    elif args.command == "random-package":
        from .int8_study import fp32_package

        logging.basicConfig(level=logging.INFO, format="%(message)s")
        result = {"package": str(fp32_package(args.size, args.work_dir))}
    elif args.command == "isa":
        from ..quantize.isa import isa_report

        result = isa_report()
    elif args.command == "int8-speed":
        from .int8_speed import markdown as speed_markdown
        from .int8_speed import run_speed

        result = run_speed(args.fp32, args.int8, args.threads)
        args.out.with_suffix(".md").write_text(speed_markdown(result))
    else:
        from .plots import plot_results

        result = {"plots": [str(p) for p in plot_results(json.loads(args.results.read_text()), args.out_dir)]}
        print(json.dumps(result))
        return 0
    args.out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
