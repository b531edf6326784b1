"""Leadbase's database engine for PostgreSQL (settings.DATABASES): Django's, see base.py."""
