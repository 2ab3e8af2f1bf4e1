"""Helpers shared by the report/verify tests (fake runs with real, tiny artifacts)."""
