"""Storage: SQLite by default (a file path), PostgreSQL by URL, through SQLAlchemy."""
