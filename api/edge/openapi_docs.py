"""What a route documents in the OpenAPI schema besides its success: the error answers it gives, and a JSON
request body that the route parses itself (so clients, and the schema fuzzer, know its fields)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

ERRORS: dict[int, str] = {
    401: "auth is on and the bearer token is missing, expired, for another audience or not signed by us",
    403: "the resource belongs to another user, or the endpoint needs the service role",
    404: "unknown id",
    409: "the resource is in a state that does not allow this",
    422: "malformed input; the detail names the field",
    429: "a rate limit is reached; see Retry-After",
    500: "unexpected failure: a short message and an error id that is in the log",
}
# the largest list offset a route accepts (SQLite's and PostgreSQL's 64-bit integers hold far more; a larger
# number is a client error, not an overflow in the database driver)
MAX_OFFSET = 1_000_000_000


def responses(*codes: int, described: dict[int, str] | None = None) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: the standard descriptions of ``codes``, then ``described`` (code -> text)
    for answers this route gives for reasons of its own."""
    found: dict[int | str, dict[str, Any]] = {code: {"description": ERRORS[code]} for code in codes}
    found.update({code: {"description": text} for code, text in (described or {}).items()})
    return found


def json_body(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    """``openapi_extra=`` documenting ``model`` as the route's JSON body (nested models inlined)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(defs[ref.rsplit("/", 1)[1]])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(value) for value in node]
        return node

    content = {"application/json": {"schema": inline(schema)}}
    return {"requestBody": {"required": required, "content": content}}
