"""Task -> graphs table (mirrors docs/model-package.md) and the per-task decoding defaults."""

from __future__ import annotations

from ..errors import ConfigError

TASK_GRAPHS: dict[str, tuple[str, ...]] = {
    "caption": ("vision", "decoder_cross_kv", "decoder_step"),
    "vqa": ("vision", "text_encoder", "fusion", "decoder_cross_kv", "decoder_step"),
    "embed_image": ("vision", "heads_vision"),
    "embed_video": ("vision", "heads_vision"),
    "embed_text": ("text_encoder", "heads_text"),
    "match": ("vision", "text_encoder", "fusion", "heads_itm"),
    "classify": ("vision", "text_encoder", "heads_vision", "heads_text"),
}

# The parity reference travels with the decoder graphs it checks.
COMPANION_GRAPHS = {"decoder_step": ("decoder_full",)}


def servable_tasks(available_graphs: set[str], has_temp: bool) -> list[str]:
    tasks = [t for t, graphs in TASK_GRAPHS.items() if set(graphs) <= available_graphs]
    return [t for t in tasks if t != "classify" or has_temp]


def select_tasks(requested: list[str] | None, servable: list[str]) -> list[str]:
    if requested is None:
        return servable
    unknown = [t for t in requested if t not in TASK_GRAPHS]
    if unknown:
        raise ConfigError(f"unknown task(s) {', '.join(unknown)}; known: {', '.join(TASK_GRAPHS)}")
    impossible = [t for t in requested if t not in servable]
    if impossible:
        raise ConfigError(
            f"the checkpoint cannot serve {', '.join(impossible)} (it lacks the heads they need); "
            f"it can serve {', '.join(servable)}"
        )
    return [t for t in TASK_GRAPHS if t in requested]


def graphs_for(tasks: list[str]) -> list[str]:
    needed: list[str] = []
    for task in tasks:
        for graph in TASK_GRAPHS[task]:
            for g in (graph, *COMPANION_GRAPHS.get(graph, ())):
                if g not in needed:
                    needed.append(g)
    return needed
