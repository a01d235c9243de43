"""Agencies, users, bearer tokens and the principal that every request carries."""
