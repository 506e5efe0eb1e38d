"""`GET /v1/models` through the openai client: the served package, in OpenAI's shape."""

import openai
import pytest

from harness.chat import MODEL


def test_models_list_names_the_served_model(client: openai.OpenAI) -> None:
    models = list(client.models.list())
    assert [model.id for model in models] == [MODEL]
    assert models[0].object == "model"
    assert models[0].owned_by
    assert models[0].created > 1_600_000_000


def test_one_model_is_retrieved_and_an_unknown_one_is_404(client: openai.OpenAI) -> None:
    assert client.models.retrieve(MODEL).id == MODEL
    with pytest.raises(openai.NotFoundError) as refused:
        client.models.retrieve("gpt-4")
    assert "gpt-4" in refused.value.message
    assert MODEL in refused.value.message
