"""A fixed, seeded set of inputs for comparing an int8 package with its fp32 source.

Each input is a medium (an image, or a video of moving shapes), a question about it and a caption
text for it. Images come in several sizes and aspect ratios; every fifth input is a video.
The media are drawn like the demo's (gradients, a disc and a bar), so nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..demo.media import draw

SUBJECTS = ["the man", "the woman", "a dog", "the child", "a red car", "the bird", "two people", "the cat"]
ACTIONS = ["doing", "holding", "looking at", "riding", "playing with", "eating", "wearing", "carrying"]
PLACES = ["in the park", "on the street", "in the kitchen", "at the beach", "in the snow", "on a boat"]
QUESTION_FORMS = [
    "what is {s} {a} {p}?",
    "what color is the object {s} is {a}?",
    "how many people are {p}?",
    "is {s} {a} something {p}?",
    "where is {s}?",
]
IMAGE_SIZES = [(480, 270), (224, 224), (97, 131), (640, 480), (160, 120), (300, 500), (1280, 720)]
VIDEO_FRAMES = 24  # frames drawn per video; the package samples its own number from them


@dataclass(frozen=True)
class StudyInput:
    name: str
    frames: np.ndarray  # uint8 [T, H, W, 3]; an image is one frame
    question: str
    caption: str

    @property
    def is_video(self) -> bool:
        return self.frames.shape[0] > 1


def question(i: int) -> str:
    form = QUESTION_FORMS[i % len(QUESTION_FORMS)]
    return form.format(s=SUBJECTS[i % len(SUBJECTS)], a=ACTIONS[(i // 2) % len(ACTIONS)], p=PLACES[i % 6])


def caption(i: int) -> str:
    return (
        f"{SUBJECTS[(i + 3) % len(SUBJECTS)]} {ACTIONS[(i + 1) % len(ACTIONS)]} a ball {PLACES[(i // 3) % 6]}"
    )


def study_inputs(count: int = 50) -> list[StudyInput]:
    inputs = []
    for i in range(count):
        seed = 7000 + i
        if i % 5 == 4:
            width, height = 160, 120
            frames = np.stack(
                [draw(width, height, seed, t / (VIDEO_FRAMES - 1)) for t in range(VIDEO_FRAMES)]
            )
            name = f"video_{i:02d}"
        else:
            width, height = IMAGE_SIZES[i % len(IMAGE_SIZES)]
            frames = draw(width, height, seed)[None]
            name = f"image_{i:02d}_{width}x{height}"
        inputs.append(StudyInput(name, frames, question(i), caption(i)))
    return inputs
