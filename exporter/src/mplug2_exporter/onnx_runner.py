"""Runs a package's graphs in ONNX Runtime (Python), for `verify` and the tests.

Includes the KV-cached beam search over `decoder_cross_kv` + `decoder_step`, with the same state
machine as the PyTorch reference, so its tokens can be compared with the full-prefix decoder's.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from .beam_search import BeamResult, BeamSearch, DecodeParams


class PackageRunner:
    def __init__(self, package: Path, threads: int = 0):
        self.dir = Path(package)
        self.manifest = json.loads((self.dir / "manifest.json").read_text())
        self.options = ort.SessionOptions()
        self.options.log_severity_level = 3
        if threads:
            self.options.intra_op_num_threads = threads
        self._sessions: dict[str, ort.InferenceSession] = {}

    @property
    def graphs(self) -> list[str]:
        return list(self.manifest["graphs"])

    @property
    def decoder_layers(self) -> int:
        return self.manifest["config"]["text"]["text_decode_layers"]

    def session(self, graph: str) -> ort.InferenceSession:
        if graph not in self._sessions:
            path = self.dir / self.manifest["graphs"][graph]["file"]
            self._sessions[graph] = ort.InferenceSession(
                str(path), self.options, providers=["CPUExecutionProvider"]
            )
        return self._sessions[graph]

    def run(self, graph: str, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        return self.session(graph).run(None, feeds)

    def release(self, graph: str) -> None:
        self._sessions.pop(graph, None)

    def cross_kv(self, memory: np.ndarray) -> dict[str, np.ndarray]:
        outputs = self.run("decoder_cross_kv", {"memory": memory})
        names = [o["name"] for o in self.manifest["graphs"]["decoder_cross_kv"]["outputs"]]
        return dict(zip(names, outputs, strict=True))

    def decode_cached(self, memory: np.ndarray, memory_mask: np.ndarray, params: DecodeParams) -> BeamResult:
        """One item (memory [1, S, D]) through the cached decoder graphs, beams folded as contracted."""
        text = self.manifest["config"]["text"]
        heads = text["num_attention_heads"]
        hd = text["hidden_size"] // heads
        k, layers = params.beam_size, self.decoder_layers
        cross = self.cross_kv(memory.astype(np.float32))
        past = {
            f"past_{kind}_{i}": np.zeros((1, k, heads, 0, hd), np.float32)
            for i in range(layers)
            for kind in ("key", "value")
        }
        search = BeamSearch(params)
        while not search.done:
            position = search.alive.shape[1] - 1
            feeds = {
                "input_ids": search.alive[:, -1].numpy()[None].astype(np.int64),
                "position_ids": np.array([position], np.int64),
                "past_mask": np.ones((1, position), np.int64),
                "memory_mask": memory_mask.astype(np.int64),
                **past,
                **cross,
            }
            logits, *present = self.run("decoder_step", feeds)
            origins = search.advance(torch.from_numpy(logits[0]))
            for i in range(layers):
                for j, kind in enumerate(("key", "value")):
                    name = f"past_{kind}_{i}"
                    grown = np.concatenate([past[name], present[2 * i + j]], axis=3)
                    past[name] = grown[:, origins]
        assert search.result is not None
        return search.result
