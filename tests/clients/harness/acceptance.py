"""What a schema-valid request may be refused for: media that cannot be decoded, and a lookup of
something that is not there. The OpenAPI document describes media as base64 (`format: byte`), and
random bytes are never a valid image or video, so those refusals are expected; so is a 404 the
operation documents itself (`GET /v1/models/{id}` of a random id). Any other 4xx of a schema-valid
request means the document promises something the server does not serve."""

from __future__ import annotations

import re

from schemathesis import Case, CheckContext, Response

# The model crate's media errors (model/src/preprocess/error.rs): a format not recognised, bytes
# that do not decode, a video without decodable frames.
MEDIA_REFUSAL = re.compile(
    r"cannot decode (image|video)"
    r"|unsupported (image|video)"
    r"|video has no decodable frames"
    r"|video decoder failed"
)
# 400 invalid_request (corrupt media) and 415 unsupported_media_type (format not recognised).
MEDIA_REFUSAL_STATUSES = (400, 415)


class RefusedValidRequest(AssertionError):
    """A schema-valid request refused for another reason than undecodable media."""


def is_media_refusal(response: Response) -> bool:
    if response.status_code not in MEDIA_REFUSAL_STATUSES:
        return False
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return False
    return bool(MEDIA_REFUSAL.search(message))


def is_documented_not_found(response: Response, case: Case) -> bool:
    documented = case.operation.definition.raw.get("responses", {})
    return response.status_code == 404 and "404" in documented


def schema_valid_requests_are_served(
    ctx: CheckContext, response: Response, case: Case
) -> bool | None:
    """A schemathesis check: a positive (schema-valid) case is answered 2xx, or refused only for
    its media or with the operation's own documented 404."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if (
        response.status_code < 400
        or is_media_refusal(response)
        or is_documented_not_found(response, case)
    ):
        return None
    raise RefusedValidRequest(
        f"schema-valid request refused with {response.status_code}: {response.text}"
    )
