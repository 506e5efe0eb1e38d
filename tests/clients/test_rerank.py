"""`/v1/rerank` and `/rerank` in the Cohere/Jina shape: results best first, scored as
`/v1/match`, cut to `top_n`, with the documents when asked."""

import httpx
import pytest

from harness import goldens
from harness.chat import MODEL

GOLDEN = goldens.index()["match"][0]


@pytest.fixture(scope="module")
def match_scores(http: httpx.Client) -> list[float]:
    medium = goldens.medium(GOLDEN["media"])
    response = http.post("/v1/match", json={**medium.rest_fields(), "texts": GOLDEN["texts"]})
    assert response.status_code == 200, response.text
    return response.json()["scores"]


@pytest.mark.parametrize("path", ["/v1/rerank", "/rerank"])
def test_a_medium_ranks_texts_as_their_match_scores(
    http: httpx.Client, match_scores: list[float], path: str
) -> None:
    body = {
        "model": MODEL,
        "query": goldens.medium(GOLDEN["media"]).rest_fields(),
        "documents": GOLDEN["texts"],
        "top_n": 2,
        "return_documents": True,
    }
    response = http.post(path, json=body)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    best_first = sorted(range(len(match_scores)), key=lambda i: -match_scores[i])
    assert [r["index"] for r in results] == best_first[:2]
    for result in results:
        assert result["relevance_score"] == pytest.approx(match_scores[result["index"]], abs=1e-4)
        assert result["document"]["text"] == GOLDEN["texts"][result["index"]]


def test_documents_are_left_out_unless_asked(http: httpx.Client) -> None:
    body = {"query": goldens.medium(GOLDEN["media"]).rest_fields(), "documents": GOLDEN["texts"]}
    response = http.post("/v1/rerank", json=body)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert sorted(r["index"] for r in results) == list(range(len(GOLDEN["texts"])))
    assert all("document" not in r for r in results)
