"""Extension singletons, created once here and bound to an app by the factory."""

from flask import current_app
from flask_cors import CORS
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from myapi.models import Base
from myapi.openapi import Api
from myapi.ratelimits import client_ip

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
jwt = JWTManager()
cors = CORS()
api = Api()
# The default limit is read per request, so each app built in a process keeps its own.
limiter = Limiter(
    key_func=client_ip, default_limits=[lambda: current_app.config["RATELIMIT_DEFAULT"]]
)
