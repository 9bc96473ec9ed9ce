"""The one pagination helper: `?page=&per_page=` in, `{items, page, per_page, total, pages}` out."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from sqlalchemy import Select, func, select

from myapi.extensions import db

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
MAX_PAGE = 1_000_000


class PageArgsSchema(ma.Schema):
    class Meta:
        # An unknown parameter (`offset`, `sort`, `limit`) is refused (422), never ignored:
        # a client must not believe its filter or ordering was applied when it was not.
        unknown = ma.RAISE

    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=MAX_PAGE))
    # Larger requests are capped rather than refused, so clients can ask for "as many as allowed".
    per_page = ma.fields.Integer(load_default=DEFAULT_PER_PAGE, validate=ma.validate.Range(min=1))

    @ma.post_load
    def cap_per_page(self, data: dict[str, int], **_: Any) -> dict[str, int]:
        data["per_page"] = min(data["per_page"], MAX_PER_PAGE)
        return data


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A response schema for one page of `item_schema` items."""
    return ma.Schema.from_dict(
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
            "page": ma.fields.Integer(required=True),
            "per_page": ma.fields.Integer(required=True),
            "total": ma.fields.Integer(required=True),
            "pages": ma.fields.Integer(required=True),
        },
        name=name,
    )


def paginate(statement: Select[Any], page: int, per_page: int) -> dict[str, Any]:
    """Run one page of an ordered SELECT of entities, with the total count."""
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    items = db.session.scalars(statement.limit(per_page).offset((page - 1) * per_page)).all()
    return {
        "items": items,
        "page": page,
        "per_page": per_page,
        "total": total or 0,
        "pages": -(-(total or 0) // per_page),
    }
