"""The int8 accuracy bar (docs/PERFORMANCE.md, "int8"), held on the demo package quantized here.

The demo package is quantized with the default recipe and run end to end beside its fp32 source on
the 50 fixed study inputs (40 images, 10 videos); beam searches are left to the study itself.
"""

from __future__ import annotations

import pytest

from mplug2_exporter.quantize.compare import BAR, compare_packages
from mplug2_exporter.quantize.package import quantize_package

from .conftest import DEMO_DIR


@pytest.fixture(scope="module")
def demo_figures(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo-int8") / "package"
    quantize_package(DEMO_DIR, out)
    return compare_packages(DEMO_DIR, out, count=50, threads=2, beams=False)


def test_the_int8_demo_meets_the_accuracy_bar(demo_figures):
    emb = demo_figures["embeddings"]
    assert demo_figures["inputs"] == 50 and demo_figures["videos"] == 10
    for key in ("media_embedding", "text_embedding"):
        assert emb[key]["min"] >= BAR["retrieval_min_cosine"], (key, emb[key])
    for key in ("vision", "question_text", "fused"):
        assert emb[key]["min"] >= BAR["embedding_min_cosine"], (key, emb[key])
    for task in ("caption", "vqa"):
        assert demo_figures["first_step"][task]["top5_overlap_mean"] >= BAR["top5_overlap_mean"], task
    assert demo_figures["bar"]["passed"]


def test_int8_is_not_the_fp32_package(demo_figures):
    """The comparison sees quantization at all: outputs move, if only a little."""
    assert demo_figures["embeddings"]["vision"]["min"] < 0.999999
    assert demo_figures["first_step"]["caption"]["max_abs_diff"] > 1e-3
