"""The OAuth 2 authorization server: token, revocation, introspection, metadata and JWKS
(`blp`, in the OpenAPI document), and the authorization endpoint's HTML pages (`pages`)."""

from myapi.openapi import Blueprint

blp = Blueprint("oauth", __name__, description="OAuth 2 for other services.")

from myapi.oauth import jwks, routes  # noqa: E402, F401  (routes register on blp)
from myapi.oauth.authorize import pages  # noqa: E402, F401
