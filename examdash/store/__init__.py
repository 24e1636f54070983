"""Storage: the DuckDB file and everything that reads or writes it as such.

The connection and its migrations (`migrations/*.sql`), the clock and the data version kept in the
database, the audit log writer, backup and restore (`db`); the named SQL files of `queries/` and the
internal ones of `sql/` (`sql_files`); the runner that binds a query's parameters and the caller's
scope (`queries`). It may import `examdash.config` and the plain rule modules of the domain that the
database is loaded with (`domain.plan`, `domain.rules`); nothing above it.
"""
