"""Passkeys: managing one's own from the account pages, and signing in with one."""
