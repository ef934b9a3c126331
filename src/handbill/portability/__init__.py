"""Data safety: a practice's own export (and its import elsewhere), and database backups.

``registry`` decides which tables an export carries; ``export`` writes one practice to a
folder with a manifest of hashes; ``importing`` reads such a folder into another database;
``backup`` copies the whole database (SQLite's online backup, or pg_dump).
"""
