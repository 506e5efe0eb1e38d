"""The playground (`/`) in a real browser: Debian's Chromium, driven by Playwright. The page
uploads the demo image, streams the golden answer to a golden question, captions it as
`/v1/caption` does, shows three labels as bars best first, matches texts as `/v1/match` does,
shows the server's timing headers, and words a refused file as the server did; one medium from
its demo buttons in a phone-sized window. Screenshots are kept under `artifacts/`."""

from __future__ import annotations

import base64
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from harness import goldens
from harness.paths import demo_package
from harness.server import Server

# Bound of one step in the page: a request answered and rendered.
STEP_TIMEOUT_MS = 60_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
IMAGE = "image_480x270"
LABELS = ["dog", "cat", "a red disc"]
NOT_AN_IMAGE = b"this is a text file, not an image\n"
expect.set_options(timeout=STEP_TIMEOUT_MS)


def chromium() -> str:
    """The system's Chromium: `CHROMIUM`, else `chromium` on the PATH (never a browser of
    Playwright's own: `playwright install` is not run)."""
    path = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if path is None:
        pytest.fail(
            "chromium not found: `scripts/system-packages.sh --tests` (run by `make test`) "
            "installs Debian's; or set CHROMIUM to a Chromium binary"
        )
    return path


def golden_vqa(medium: str) -> dict:
    """A golden VQA case of `medium` asked with the package's own decoding settings (what chat
    uses when the request names none)."""
    defaults = json.loads((demo_package() / "manifest.json").read_text())["decoding"]["vqa"]
    keys = ("beam_size", "min_length", "max_length", "length_penalty")
    return next(
        case
        for case in goldens.index()["vqa"]
        if case["media"] == medium and all(case["params"][k] == defaults[k] for k in keys)
    )


def golden_caption(medium: str) -> str:
    return next(c["text"] for c in goldens.index()["captions"] if c["media"] == medium)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium())
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def open_page(browser: Browser, server: Server) -> Iterator[Callable[[dict], Page]]:
    """`open_page(viewport)`: the playground in a fresh browser context, its model shown; at the
    end, no script error may have happened on it."""
    contexts, script_errors = [], []

    def open_(viewport: dict) -> Page:
        context = browser.new_context(base_url=server.url, viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(STEP_TIMEOUT_MS)
        page.on("pageerror", lambda error: script_errors.append(str(error)))
        page.goto("/")
        expect(page.locator("#model")).to_contain_text("mplug2-demo")
        return page

    yield open_
    for context in contexts:
        context.close()
    assert script_errors == [], "the page threw"


def finish(page: Page, section: str, button: str, state: str = "done") -> None:
    """Clicks `button` and waits (bounded) until `section` has settled in `state`."""
    page.locator(button).click()
    expect(page.locator(section)).to_have_attribute("data-state", state)


def bars(page: Page, container: str) -> list[tuple[str, float]]:
    rows = page.locator(f"{container} .bar-row")
    return [
        (row.get_attribute("data-label"), float(row.get_attribute("data-score")))
        for row in rows.all()
    ]


def test_the_demo_image_asked_captioned_classified_and_matched(
    open_page: Callable[[dict], Page], http: httpx.Client, artifact: Callable[[str], Path]
) -> None:
    page = open_page(DESKTOP)
    served = http.get("/info").json()["models"][0]
    expect(page.locator("#model")).to_contain_text(f"{served['name']} · {served['dtype']}")
    image = goldens.medium(IMAGE).files[0]
    upload = {"image": (image.name, image.read_bytes(), "image/png")}
    page.locator("#file").set_input_files(image)
    expect(page.locator("#media-summary")).to_contain_text(image.name)

    case = golden_vqa(IMAGE)
    page.locator("#question").fill(case["question"])
    finish(page, "#ask", "#ask button[type=submit]")
    expect(page.locator("#answer")).to_have_text(case["answer"])
    expect(page.locator("#ask .timing")).to_contain_text(f"model {served['name']}")
    assert int(page.locator("#ask").get_attribute("data-deltas")) >= 1, "the answer came as deltas"
    vqa = http.post("/v1/vqa", files=upload, data={"question": case["question"]})
    assert vqa.json()["answer"] == case["answer"]

    finish(page, "#caption", "#caption-button")
    caption = http.post("/v1/caption", files=upload).json()["caption"]
    assert caption == golden_caption(IMAGE)
    expect(page.locator("#caption-text")).to_have_text(caption)
    timing = page.locator("#caption .timing")
    for shown in (f"model {served['name']}", "queue ", "compute ", "total ", "round trip ", "id "):
        expect(timing).to_contain_text(shown)

    page.locator("#labels").fill("\n".join(LABELS))
    finish(page, "#classify", "#classify-button")
    shown = bars(page, "#classify-bars")
    assert sorted(label for label, _ in shown) == sorted(LABELS)
    assert [score for _, score in shown] == sorted((score for _, score in shown), reverse=True)
    answer = http.post("/v1/classify", files=upload, data={"labels": LABELS}).json()
    assert shown == [(entry["label"], entry["score"]) for entry in answer["labels"]]

    texts = page.locator("#texts").input_value().splitlines()
    finish(page, "#match", "#match-button")
    scores = http.post("/v1/match", files=upload, data={"texts": texts}).json()["scores"]
    assert bars(page, "#match-bars") == list(zip(texts, scores, strict=True))

    page.screenshot(path=artifact("playground.png"), full_page=True)


def test_a_refused_file_is_shown_in_the_servers_words(
    open_page: Callable[[dict], Page], http: httpx.Client
) -> None:
    page = open_page(DESKTOP)
    page.locator("#file").set_input_files(
        {"name": "notes.png", "mimeType": "image/png", "buffer": NOT_AN_IMAGE}
    )
    expect(page.locator("#media-summary")).to_contain_text("notes.png")

    finish(page, "#caption", "#caption-button", state="error")
    refused = http.post("/v1/caption", files={"image": ("notes.png", NOT_AN_IMAGE, "image/png")})
    assert refused.status_code >= 400
    error = refused.json()["error"]
    expect(page.locator("#caption .error-type")).to_have_text(error["type"])
    expect(page.locator("#caption .error-message")).to_have_text(error["message"])

    question = page.locator("#question").input_value()
    finish(page, "#ask", "#ask button[type=submit]", state="error")
    url = f"data:image/png;base64,{base64.b64encode(NOT_AN_IMAGE).decode()}"
    content = [{"type": "text", "text": question}, {"type": "image_url", "image_url": {"url": url}}]
    chat = http.post(
        "/v1/chat/completions",
        json={"model": "mplug2-demo", "messages": [{"role": "user", "content": content}]},
    )
    assert chat.status_code >= 400
    expect(page.locator("#ask .error-message")).to_have_text(chat.json()["error"]["message"])


def test_demo_media_in_a_phone_sized_window(
    open_page: Callable[[dict], Page], http: httpx.Client, artifact: Callable[[str], Path]
) -> None:
    page = open_page(PHONE)

    page.get_by_role("button", name="7 frames", exact=True).click()
    expect(page.locator("#media-summary")).to_contain_text("7 frames")
    finish(page, "#caption", "#caption-button")
    frames = goldens.medium("frames_7")
    upload = [("frames", (path.name, path.read_bytes(), "image/png")) for path in frames.files]
    caption = http.post("/v1/caption", files=upload).json()["caption"]
    assert caption == golden_caption("frames_7")
    expect(page.locator("#caption-text")).to_have_text(caption)

    page.get_by_role("button", name="video", exact=True).click()
    expect(page.locator("#media-summary")).to_contain_text("video: frames_20.mp4")
    expect(page.locator("#caption-text")).to_have_text("")  # the frames' caption is gone
    question = "What is the man doing in the video?"
    page.locator("#question").fill(question)
    finish(page, "#ask", "#ask button[type=submit]")
    video = goldens.medium("frames_20_mp4").files[0]
    answer = http.post(
        "/v1/vqa",
        files={"video": (video.name, video.read_bytes(), "video/mp4")},
        data={"question": question},
    ).json()["answer"]
    expect(page.locator("#answer")).to_have_text(answer)

    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
        "the page is wider than a phone's window"
    )
    page.screenshot(path=artifact("playground-phone.png"), full_page=True)
