"""flask-smorest, adjusted so the OpenAPI document and the parser match our error contract."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import flask_smorest
import marshmallow as ma
from apispec import BasePlugin
from flask_smorest.spec import prepare_response
from webargs.flaskparser import FlaskParser

from myapi.errors import PROBLEM_MIMETYPE

BEARER_SCHEME = "bearerAuth"


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
    """Treat JSON nested deeper than the interpreter can parse as malformed (400), not a 500.

    Query strings follow their schema's `unknown` rule (RAISE by default) instead of
    webargs' EXCLUDE, so a parameter the API does not have is refused, not ignored.
    """

    DEFAULT_UNKNOWN_BY_LOCATION = FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION | {
        "query": None,
        "querystring": None,
    }

    def _raw_load_json(self, req: Any) -> Any:
        try:
            return super()._raw_load_json(req)
        except RecursionError as exc:
            raise json.JSONDecodeError("JSON nested too deeply", "<body>", 0) from exc


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


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ProblemSchema

    def _init_spec(self, *, extra_plugins: Any = None, **kwargs: Any) -> None:
        super()._init_spec(extra_plugins=[*(extra_plugins or ()), MinPropertiesPlugin()], **kwargs)

    def _register_responses(self) -> None:
        """Document error responses as application/problem+json, which is what we send."""
        for status in (400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 503):
            http_status = HTTPStatus(status)
            response = {"description": http_status.phrase, "schema": self.ERROR_SCHEMA}
            prepare_response(response, self.spec, PROBLEM_MIMETYPE)
            self.spec.components.response(http_status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_MIMETYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def register_security_scheme(self) -> None:
        self.spec.components.security_scheme(
            BEARER_SCHEME, {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        )
