"""Error pages for people, problem details for the API."""

from typing import Any

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import gettext
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


def _status_title(status: int, default: str) -> str:
    """The status's name (Werkzeug's English words) in the reader's language."""
    titles = {
        400: gettext("Bad Request"),
        401: gettext("Unauthorized"),
        403: gettext("Forbidden"),
        404: gettext("Not Found"),
        405: gettext("Method Not Allowed"),
        409: gettext("Conflict"),
        410: gettext("Gone"),
        413: gettext("Request Entity Too Large"),
        415: gettext("Unsupported Media Type"),
        422: gettext("Unprocessable Entity"),
        429: gettext("Too Many Requests"),
        500: gettext("Internal Server Error"),
        503: gettext("Service Unavailable"),
    }
    return titles.get(status, default)


def _wants_problem() -> bool:
    return request.path.startswith("/api/")


def _http_error(error: HTTPException) -> Any:
    status = error.code or 500
    title = _status_title(status, error.name)
    if _wants_problem():
        response = problem(status, title, error.description or "")
    else:
        page = render_template("error.html", status=status, title=title, error=error)
        response = make_response(page, status)
    # What the error says in headers (a 405's Allow, which RFC 9110 requires), not its type.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _csrf_error(error: CSRFError) -> Any:
    detail = gettext("The form was out of date. Reload the page and try again.")
    if _wants_problem():
        return problem(400, gettext("CSRF check failed"), detail)
    title = gettext("Form expired")
    return render_template("error.html", status=400, title=title, message=detail), 400


def _rate_limited(error: HTTPException) -> Any:
    detail = gettext("Too many attempts. Please wait a few minutes and try again.")
    if _wants_problem():
        return problem(429, gettext("Too many requests"), detail)
    title = gettext("Too many attempts")
    return render_template("error.html", status=429, title=title, message=detail), 429


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(429, _rate_limited)
    app.register_error_handler(HTTPException, _http_error)
