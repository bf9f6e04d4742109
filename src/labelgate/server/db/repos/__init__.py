"""Repositories: the only code that writes SQL. Functions take a Connection inside a transaction
opened by a service and return domain records."""
