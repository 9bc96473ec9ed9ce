"""The floor: a bare Flask JSON view, served with the same gunicorn settings as the app."""

from flask import Flask

app = Flask(__name__)


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
