"""The suite's analytic FLOP counts reproduce the official-timings FLOP table (§5), which was
counted independently on the official code."""

import pytest

from mplug2_exporter.perf.flops import Dims, universal_macs, videoformer_macs


def dims(width, layers, patch, hidden, intermediate):
    return Dims(
        vision_width=width,
        vision_layers=layers,
        patch_size=patch,
        image_size=224,
        hidden=hidden,
        intermediate=intermediate,
        text_layers=10,
        uni_layers=2,
        fusion_layers=3,
        decoder_layers=12,
        vocab=30522,
        latents=50,
    )


BASE = dims(768, 12, 16, 768, 3072)
LARGE = dims(1024, 24, 14, 1024, 4096)


@pytest.mark.parametrize(
    ("d", "frames", "videoformer", "universal"),
    [(BASE, 1, 40.7, 4.85), (BASE, 16, 651.0, 91.4), (LARGE, 1, 187.8, 10.7), (LARGE, 16, 3005.3, 209.6)],
)
def test_vision_flops_match_the_official_count(d, frames, videoformer, universal):
    assert 2 * videoformer_macs(d, frames) / 1e9 == pytest.approx(videoformer, rel=2e-3)
    assert 2 * universal_macs(d, frames) / 1e9 == pytest.approx(universal, rel=2e-3)
