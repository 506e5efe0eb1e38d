"""Command line: `python -m mplug2_exporter export|quantize|demo|verify|random-checkpoint`."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import torch

from .config import BUNDLED_BERT_CONFIGS, bundled_bert_config_path
from .errors import ExporterError

log = logging.getLogger("mplug2_exporter")


def parse_tasks(value: str) -> list[str]:
    return [t.strip() for t in value.split(",") if t.strip()]


def bert_config_arg(value: str) -> Path:
    """A path, or the name of a bundled official config: large (default), base, demo."""
    path = Path(value)
    if not path.exists() and value in BUNDLED_BERT_CONFIGS:
        return bundled_bert_config_path(value)
    return path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mplug2_exporter", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0 = torch default)")
    sub = parser.add_subparsers(dest="command", required=True)

    export = sub.add_parser("export", help="official checkpoint -> model package")
    export.add_argument(
        "--checkpoint", type=Path, required=True, help="official .pth (weights under model/module)"
    )
    export.add_argument(
        "--bert-config",
        type=bert_config_arg,
        help="official BERT config JSON, or a bundled one: large (the default, released), base, demo",
    )
    export.add_argument("--vision-heads", type=int, help="vision attention heads (default: width / 64)")
    export.add_argument("--out", type=Path, required=True, help="package directory to write")
    export.add_argument(
        "--dtype",
        choices=["fp32", "fp16", "int8"],
        default="fp32",
        help="int8: linear-layer weights int8 per output channel, activations quantized at run time",
    )
    export.add_argument("--tasks", type=parse_tasks, help="comma-separated subset of the servable tasks")
    export.add_argument("--name", help="model name in the manifest (default: from the file name)")

    quantize = sub.add_parser("quantize", help="fp32 model package -> int8 model package")
    quantize.add_argument("src", type=Path, metavar="FP32_DIR", help="an fp32 package (export's output)")
    quantize.add_argument("--out", type=Path, required=True, help="package directory to write")
    quantize.add_argument("--name", help="model name in the manifest (default: the source's + '-int8')")

    compare = sub.add_parser("compare", help="an int8 package against its fp32 source on fixed inputs")
    compare.add_argument("fp32", type=Path, metavar="FP32_DIR")
    compare.add_argument("int8", type=Path, metavar="INT8_DIR")
    compare.add_argument(
        "--inputs", type=int, default=50, help="how many of the fixed inputs (every 5th a video)"
    )
    compare.add_argument("--no-beams", action="store_true", help="skip the beam searches (the slow part)")
    compare.add_argument("--json", type=Path, help="also write every figure here")

    demo = sub.add_parser("demo", help="the small deterministic demo package with PyTorch goldens")
    demo.add_argument("--out", type=Path, required=True)
    demo.add_argument("--no-goldens", action="store_true", help="skip writing goldens/")
    demo.add_argument("--seed", type=int, help="other random weights (a second demo package)")
    demo.add_argument("--name", default="mplug2-demo", help="the manifest's model name")
    demo.add_argument("--finetuned-for", choices=["vqa", "caption"], help="the manifest's finetuned_for")

    verify = sub.add_parser("verify", help="PyTorch vs ONNX Runtime on a package, max abs diff per graph")
    verify.add_argument("dir", type=Path)
    verify.add_argument(
        "--checkpoint", type=Path, help="source checkpoint (default: recorded in export.json)"
    )
    verify.add_argument("--frames", default="1,4,16", help="frame counts to check (comma-separated)")
    verify.add_argument("--batch", type=int, default=2, help="batch size to check (text is padded)")
    verify.add_argument(
        "--tolerance",
        type=float,
        help="max abs diff allowed (default 1e-4 fp32, 5e-2 fp16; int8 is held to the cosine instead)",
    )
    verify.add_argument(
        "--min-cosine", type=float, help="smallest output cosine allowed (default 0.99 for int8, else none)"
    )

    rand = sub.add_parser("random-checkpoint", help="random weights in the official checkpoint format")
    rand.add_argument("--size", choices=["large", "base", "demo"], required=True)
    rand.add_argument("--out", type=Path, required=True)
    rand.add_argument("--seed", type=int, default=0)
    rand.add_argument("--momentum", action="store_true", help="include the *_m copies of a QA checkpoint")
    rand.add_argument("--heads", action="store_true", help="include vision_proj/text_proj/itm_head/temp")
    return parser


def compare_command(args: argparse.Namespace) -> int:
    import json

    from .quantize.compare import compare_packages
    from .quantize.report import bar_text, markdown_table

    threads = args.threads or 2
    figures = compare_packages(args.fp32, args.int8, args.inputs, threads, beams=not args.no_beams)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    print(figures["machine"])
    print(markdown_table({args.int8.name: figures}))
    print(f"bar ({bar_text()}): {'met' if figures['bar']['passed'] else 'NOT met'}")
    return 0 if figures["bar"]["passed"] else 1


def run(args: argparse.Namespace) -> int:
    if args.command == "export":
        from .export.package import ExportOptions, export_package

        export_package(
            ExportOptions(
                args.checkpoint,
                args.out,
                args.bert_config,
                args.vision_heads,
                args.dtype,
                args.tasks,
                args.name,
            )
        )
    elif args.command == "quantize":
        from .quantize.package import quantize_package

        quantize_package(args.src, args.out, name=args.name)
    elif args.command == "compare":
        return compare_command(args)
    elif args.command == "demo":
        from .demo.build import build_demo

        seed = {} if args.seed is None else {"seed": args.seed}
        build_demo(
            args.out,
            with_goldens=not args.no_goldens,
            name=args.name,
            finetuned_for=args.finetuned_for,
            **seed,
        )
    elif args.command == "verify":
        from .verify import verify_package

        frames = [int(f) for f in args.frames.split(",")]
        ok = verify_package(args.dir, args.checkpoint, frames, args.batch, args.tolerance, args.min_cosine)
        return 0 if ok else 1
    elif args.command == "random-checkpoint":
        from .synthetic.sizes import write_random_checkpoint

        write_random_checkpoint(args.size, args.out, args.seed, args.momentum, args.heads)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        return run(args)
    except ExporterError as e:
        log.error("error: %s", e)
        return 2


if __name__ == "__main__":
    sys.exit(main())
