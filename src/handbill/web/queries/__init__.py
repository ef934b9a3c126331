"""Read-only queries behind the pages: each returns what one page shows, scoped to a practice,
in a bounded number of database queries."""
