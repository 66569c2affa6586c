"""Plain functions over a session and plain values: no request, no current_user, no templates."""
