"""Flask extensions, created unbound; ``create_app`` initialises them."""

from flask_babel import Babel
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from homeprogram.db import Database
from homeprogram.limits_memory import lock_timer_restart

lock_timer_restart()
db = Database()
login_manager = LoginManager()
csrf = CSRFProtect()
htmx = HTMX()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
