"""Building URLs for every rule of the app's URL map (security and authorization tests)."""

from typing import Any

from flask import Flask
from werkzeug.routing import AnyConverter, IntegerConverter, Rule

SKIP_ENDPOINTS = {"static"}


def get_rules(app: Flask, method: str | None = None) -> list[Rule]:
    rules = [r for r in app.url_map.iter_rules() if r.endpoint not in SKIP_ENDPOINTS]
    if method:
        rules = [r for r in rules if method in (r.methods or set())]
    return sorted(rules, key=lambda r: (r.rule, r.endpoint))


def build_url(app: Flask, rule: Rule, world: dict[str, Any]) -> str:
    """A URL for ``rule``: ``<x_id>`` arguments take the id of ``world["x"]`` when there is
    one (else 999999), string arguments a harmless placeholder."""
    values: dict[str, Any] = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        if isinstance(converter, IntegerConverter):
            key = name.removesuffix("_id")
            obj = world.get(key)
            values[name] = getattr(obj, "id", 999_999) if obj is not None else 999_999
        elif isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = world.get(name, "placeholder")
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)
