"""Fixtures and helpers for tests that need the real broker and database."""
