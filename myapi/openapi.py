"""flask-smorest, adjusted so the OpenAPI document and the parser match our error contract."""

from __future__ import annotations

from typing import Any

import flask_smorest
import marshmallow as ma
from apispec import BasePlugin
from webargs.core import missing
from webargs.flaskparser import FlaskParser, is_json_request

from myapi.errors import PROBLEM_MIMETYPE

BEARER_SCHEME = "bearerAuth"
#: The URL converter for a row id: ids beyond a 32-bit integer cannot exist, so they are a 404.
ROW_ID = "int(min=1, max=2147483647)"


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details; extension members (e.g. `checks` from /readyz) may follow."""

    class Meta:
        unknown = ma.INCLUDE

    type = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(required=True)
    errors = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()))


class JsonBodyParser(FlaskParser):
    """Request bodies are parsed by the app's JSON provider (`http_policy.JsonProvider`).

    webargs would parse them again with its own `json.loads`; overriding `load_json` (the
    documented way for a parser to load JSON its own way) keeps one parser, one set of
    rules (depth, Unicode text) and one answer for a malformed body.

    Query strings follow their schema's `unknown` rule (RAISE by default) instead of
    webargs' EXCLUDE, so a parameter the API does not have is refused, not ignored.
    """

    DEFAULT_UNKNOWN_BY_LOCATION = FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION | {
        "query": None,
        "querystring": None,
    }

    def load_json(self, req: Any, schema: ma.Schema) -> Any:
        if not is_json_request(req) or not req.get_data(cache=True):
            return missing
        return req.get_json()


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = JsonBodyParser()


class PartialUpdateSchema(ma.Schema):
    """A PATCH body: any subset of the fields, but at least one.

    `Meta.min_properties` is both enforced here and published as `minProperties`
    (MinPropertiesPlugin), so the document and the API cannot disagree.
    """

    class Meta:
        min_properties = 1

    @ma.validates_schema
    def names_a_field(self, data: dict[str, Any], **_: Any) -> None:
        if len(data) < self.Meta.min_properties:
            names = ", ".join(name for name, field in self.fields.items() if not field.dump_only)
            raise ma.ValidationError(f"Give at least one of: {names}.")


class MinPropertiesPlugin(BasePlugin):
    """Publish a schema's `Meta.min_properties` as `minProperties`.

    A partial-update body must name at least one field; without this the document would
    call `{}` valid while the API refuses it (422), and clients could not know.
    """

    def schema_helper(self, name: str, definition: dict, **kwargs: Any) -> dict | None:
        schema = kwargs.get("schema")
        minimum = getattr(getattr(schema, "Meta", None), "min_properties", None)
        return {"minProperties": minimum} if minimum else None


class ProblemResponsesPlugin(BasePlugin):
    """Document error responses as `application/problem+json`, which is what they are.

    flask-smorest registers a response per HTTP status (and `DEFAULT_ERROR`) with its
    default content type; the ones whose body is our `ProblemSchema` are moved here to
    the problem media type, through apispec's documented `response_helper` hook.
    """

    def response_helper(self, response: dict, **kwargs: Any) -> dict | None:
        content = response.get("content", {})
        body = content.get("application/json")
        if body is None or body.get("schema") not in (ProblemSchema, PROBLEM_SCHEMA_REF):
            return None
        return {"content": {PROBLEM_MIMETYPE: content.pop("application/json")} | content}


PROBLEM_SCHEMA_REF = {"$ref": "#/components/schemas/Problem"}


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ProblemSchema

    def __init__(self) -> None:
        super().__init__(
            spec_kwargs={"extra_plugins": [MinPropertiesPlugin(), ProblemResponsesPlugin()]}
        )

    def register_security_scheme(self) -> None:
        self.spec.components.security_scheme(
            BEARER_SCHEME, {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        )
