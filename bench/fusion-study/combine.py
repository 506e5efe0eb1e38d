"""Combines forward- and reverse-creation-order runs: geometric mean of the two median ratios per variant."""

import json
import math
from pathlib import Path

rows = []
for fwd in sorted(Path("/work/fuse-scratch/results").glob("*fwd.json")):
    rev = fwd.with_name(fwd.name[:-8] + "rev.json")
    if not rev.exists():
        continue
    F, R = json.loads(fwd.read_text()), json.loads(rev.read_text())
    for case in F["cases"]:
        for v in F["variants"]:
            f, r = F["cases"][case]["summary"][v], R["cases"][case]["summary"][v]
            g = lambda k: math.sqrt(f[k] * r[k])
            par = F["cases"][case]["parity"][v]
            rows.append(
                (
                    F["package"].split("/")[-1]
                    + (" (dummy-first)" if fwd.name.endswith("dfwd.json") else ""),
                    F["graph"],
                    case,
                    v,
                    f["wall_ratio"],
                    r["wall_ratio"],
                    g("wall_ratio"),
                    g("paired_ratio"),
                    g("cpu_ratio"),
                    F["cases"][case]["summary"]["A_wall_median_ms"],
                    par["max_abs"],
                    par["ref_absmax"],
                    len(F["cases"][case]["wall"]["A"]),
                )
            )
print(
    "| package | graph | case | variant | ratio (A first) | ratio (A last) | **geo-mean wall ratio** | paired | cpu-time | A median ms (A first) | parity max abs | ref max abs | rounds/order |"
)
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print(
        "| "
        + " | ".join(
            [r[0], r[1], r[2].split(":")[0] + " " + r[2].split(":")[1], r[3]]
            + [f"{x:.3f}" for x in r[4:9]]
            + [f"{r[9]:.1f}", f"{r[10]:.2g}", f"{r[11]:.3g}", str(r[12])]
        )
        + " |"
    )
