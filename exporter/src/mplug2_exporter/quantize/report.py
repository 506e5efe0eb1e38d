"""The comparison figures of one or more packages as one markdown table (a column per package)."""

from __future__ import annotations

from .compare import BAR, EMBEDDINGS, NEAR_TIE


def fmt(value: float | None, digits: int = 4) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def share(numerator: float | None, count: int) -> str:
    return "–" if numerator is None or count == 0 else f"{numerator * 100:.0f} % of {count}"


def logits_rows(task: str, s: dict) -> list[tuple[str, str]]:
    diffs = f"{fmt(s['max_abs_diff'], 3)} ({fmt(s['mean_max_abs_diff'], 3)}; {fmt(s['fp32_logit_std'], 2)})"
    top1 = f"{s['top1_agreement'] * 100:.0f} %"
    top = f"{top1} / {fmt(s['top5_overlap_mean'], 3)} ({fmt(s['top5_overlap_min'], 1)})"
    return [
        (f"first {task} step: max abs logit diff (mean over inputs; fp32 logit std)", diffs),
        (f"first {task} step: top-1 same / top-5 overlap mean (min)", top),
    ]


def beam_rows(task: str, b: dict) -> list[tuple[str, str]]:
    margins = f"{fmt(b['fp32_min_margin_median'])} / {fmt(b.get('fp32_top_margin_median'))}"
    robust = share(b["robust_identical"], b["robust_count"])
    ties = share(b["near_tie_identical"], b["near_tie_count"])
    return [
        (f"{task} beam search: identical tokens", f"{b['identical_count']} / {b['count']}"),
        (f"{task}: fp32 margins, median: smallest step gap / top beam over runner-up", margins),
        (f"{task}: identical where the fp32 top-beam margin ≥ {NEAR_TIE} / below", f"{robust} / {ties}"),
    ]


def rows(figures: dict) -> list[tuple[str, str]]:
    out = []
    for key, label in EMBEDDINGS.items():
        e = figures["embeddings"][key]
        out.append((f"{label}: cosine mean / min", f"{fmt(e['mean'], 5)} / {fmt(e['min'], 5)}"))
    out.append(
        (
            "retrieval: same best medium per caption",
            share(figures["retrieval_top1_agreement"], figures["inputs"]),
        )
    )
    out.append(("ITM probability: max abs diff", fmt(figures["itm_max_abs_diff"])))
    for task in ("caption", "vqa"):
        out += logits_rows(task, figures["first_step"][task])
    for task in ("caption", "vqa") if figures["beams"] else ():
        out += beam_rows(task, figures["beams"][task])
    batch = figures["batch_vs_single_min_cosine"]
    out.append(
        (
            "image alone vs in a batch of 8: vision cosine min, fp32 / int8",
            f"{fmt(batch['fp32'], 6)} / {fmt(batch['int8'], 6)}",
        )
    )
    out.append(("bar met", "yes" if figures["bar"]["passed"] else "**no**"))
    return out


def markdown_table(results: dict[str, dict]) -> str:
    """`results`: package label -> figures of `compare`."""
    labels = list(results)
    table = {label: dict(rows(figures)) for label, figures in results.items()}
    header = "| int8 vs fp32 | " + " | ".join(labels) + " |"
    lines = [header, "| --- |" + " ---: |" * len(labels)]
    for name in table[labels[0]]:
        lines.append(f"| {name} | " + " | ".join(table[label][name] for label in labels) + " |")
    return "\n".join(lines) + "\n"


def bar_text() -> str:
    return (
        f"retrieval embeddings (media and text) cosine ≥ {BAR['retrieval_min_cosine']} on every input, "
        f"vision/text/fused embeddings cosine ≥ {BAR['embedding_min_cosine']} on every input, "
        f"first-step top-5 overlap ≥ {BAR['top5_overlap_mean']} on average (caption and VQA)"
    )
