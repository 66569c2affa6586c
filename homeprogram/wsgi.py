"""WSGI entry point for gunicorn: ``gunicorn 'homeprogram.wsgi:app'``. Runs no scheduled jobs."""

import os

from homeprogram import create_app, startup

# Files the workers create (SQLite's -wal/-shm, pictures) are the app account's alone.
os.umask(0o077)
app = create_app()
startup.settle(app)
