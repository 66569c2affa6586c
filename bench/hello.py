"""The bare Flask app the load benchmark compares against: ``gunicorn hello:app``."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "hello"
