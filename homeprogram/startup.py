"""What a serving process does once the app is built, before the first request."""

import gc


def settle() -> None:
    """Keep the garbage collector off the objects that live as long as the process.

    The app, its routes, compiled templates and SQLAlchemy's mappers are tens of thousands of
    objects that never become garbage; each full collection walked them all again (about
    70 ms on the dashboard, every other render). Collect once, then freeze what is left so
    later collections only look at what requests create.
    """
    gc.collect()
    gc.freeze()
