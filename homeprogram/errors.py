"""Error pages for people, problem details for the API."""

from typing import Any

from flask import Flask, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str = "", **extra: Any) -> Any:
    body = {"type": "about:blank", "title": title, "status": status, **extra}
    if detail:
        body["detail"] = detail
    response = jsonify(body)
    response.status_code = status
    response.content_type = PROBLEM_JSON
    return response


def _wants_problem() -> bool:
    return request.path.startswith("/api/")


def _http_error(error: HTTPException) -> Any:
    status = error.code or 500
    if _wants_problem():
        response = problem(status, error.name, error.description or "")
    else:
        page = render_template("error.html", status=status, title=error.name, error=error)
        response = make_response(page, status)
    # What the error says in headers (a 405's Allow, which RFC 9110 requires), not its type.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _csrf_error(error: CSRFError) -> Any:
    detail = "The form was out of date. Reload the page and try again."
    if _wants_problem():
        return problem(400, "CSRF check failed", detail)
    return render_template("error.html", status=400, title="Form expired", message=detail), 400


def _rate_limited(error: HTTPException) -> Any:
    detail = "Too many attempts. Please wait a few minutes and try again."
    if _wants_problem():
        return problem(429, "Too many requests", detail)
    return render_template("error.html", status=429, title="Too many attempts", message=detail), 429


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(429, _rate_limited)
    app.register_error_handler(HTTPException, _http_error)
