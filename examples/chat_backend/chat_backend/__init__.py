"""The seeds' chat backend (FastAPI) on mnemo, or on PostgreSQL; see main.py."""
