"""flask-smorest, adjusted so the OpenAPI document and the parser match our error contract."""

from __future__ import annotations

from typing import Any

import flask_smorest
import marshmallow as ma
from apispec import BasePlugin
from flask import Flask, current_app
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


class Pattern(ma.validate.Regexp):
    r"""The whole value must match `body`: one rule, enforced here and published as `pattern`.

    Published as `^(?:body)$`, which in the document (ECMA-262) ends at the end of the
    value. Python's `$` also matches before a final newline, so the value is checked with
    `fullmatch`, which means exactly what the document says. Keep `body` to syntax both
    dialects read alike: explicit character ranges, no `\w`, `\s` or `\d`.
    """

    def __init__(self, body: str, *, error: str) -> None:
        super().__init__(rf"^(?:{body})$", error=error)

    def matches(self, value: str) -> bool:
        return self.regex.fullmatch(value) is not None

    def __call__(self, value: str) -> str:
        if not self.matches(value):
            raise ma.ValidationError(self._format_error(value))
        return value


class AtMostSetting(ma.validate.Validator):
    """From `minimum` up to the app's setting `name`, which each app may configure.

    Checked against the running app's value, and published as `minimum`/`maximum` in that
    app's document (`publish_setting_bounds`), so a deployment with another setting
    documents its own bound.
    """

    def __init__(self, name: str, *, minimum: int) -> None:
        self.name = name
        self.minimum = minimum

    def __call__(self, value: int) -> int:
        maximum = current_app.config[self.name]
        if value < self.minimum:
            raise ma.ValidationError(f"Must be at least {self.minimum}.")
        if value > maximum:
            raise ma.ValidationError(f"Must be at most {maximum}.")
        return value


def publish_setting_bounds(app: Flask) -> Any:
    """An apispec attribute function: a field's `AtMostSetting` bounds, with `app`'s value."""

    def setting_bounds(converter: Any, field: ma.fields.Field, **_: Any) -> dict[str, int]:
        for validator in field.validators:
            if isinstance(validator, AtMostSetting):
                return {"minimum": validator.minimum, "maximum": app.config[validator.name]}
        return {}

    return setting_bounds


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

    def init_app(self, app: Flask, **kwargs: Any) -> None:
        """flask-smorest builds a new document per app; it publishes that app's settings."""
        super().init_app(app, **kwargs)
        self.ma_plugin.converter.add_attribute_function(publish_setting_bounds(app))

    def register_security_scheme(self) -> None:
        self.spec.components.security_scheme(
            BEARER_SCHEME, {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        )
