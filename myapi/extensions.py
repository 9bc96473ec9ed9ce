"""Extension singletons, created once here and bound to an app by the factory."""

from __future__ import annotations

from flask_cors import CORS
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from myapi.adapters.flask_jwt_extended import SingleDecodeJWTManager
from myapi.adapters.flask_limiter import FastPathLimiter
from myapi.models import Base
from myapi.openapi import Api
from myapi.ratelimits import caller_key, configured_limit

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
jwt = SingleDecodeJWTManager()
cors = CORS()
api = Api()
mail = Mail()
# The default limit is read per request, so each app built in a process keeps its own.
limiter = FastPathLimiter(
    key_func=caller_key, default_limits=[configured_limit("RATELIMIT_DEFAULT")]
)
