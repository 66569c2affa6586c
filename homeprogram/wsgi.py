"""WSGI entry point for gunicorn: ``gunicorn 'homeprogram.wsgi:app'``. Runs no scheduled jobs."""

from homeprogram import create_app, startup

app = create_app()
startup.settle(app)
