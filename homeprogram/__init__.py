"""homeprogram: home programs for pediatric occupational therapy."""

from typing import Any

from flask import Flask

from homeprogram import clock, paths
from homeprogram import config as config_module


def create_app(config: dict[str, Any] | None = None) -> Flask:
    instance_path = paths.instance_dir()
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder=str(paths.TEMPLATES_DIR),
        static_folder=str(paths.STATIC_DIR),
    )
    from homeprogram.upload_request import UploadAwareRequest

    app.request_class = UploadAwareRequest
    app.config.update(config_module.load(instance_path, config))
    clock.pin_from_environment()

    from homeprogram import auth, errors, extensions, languages, security, web
    from homeprogram.blueprints import register_blueprints

    extensions.db.init_app(app)
    extensions.csrf.init_app(app)
    extensions.htmx.init_app(app)
    extensions.babel.init_app(app, locale_selector=languages.select_locale)
    languages.init_app(app)
    extensions.limiter.init_app(app)
    security.init_app(app)
    auth.init_app(app)
    web.init_app(app)
    register_blueprints(app)
    errors.init_app(app)

    from homeprogram import compression

    compression.init_app(app)

    from homeprogram.cli import register_commands

    register_commands(app)
    return app
