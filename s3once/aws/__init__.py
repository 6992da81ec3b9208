"""The tool's AWS access: the session, lock-table reads and writes, tables, listings, jobs."""
