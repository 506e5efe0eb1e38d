"""The server's own task routes (`/v1/vqa`, `/v1/caption`), the reference chat is held to."""

from __future__ import annotations

import httpx

from harness.media import Medium


def vqa(http: httpx.Client, medium: Medium, question: str) -> str:
    response = http.post("/v1/vqa", json={**medium.rest_fields(), "question": question})
    assert response.status_code == 200, response.text
    return response.json()["answer"]


def caption(http: httpx.Client, medium: Medium) -> str:
    response = http.post("/v1/caption", json=medium.rest_fields())
    assert response.status_code == 200, response.text
    return response.json()["caption"]
