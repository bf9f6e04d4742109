"""The API contract: pydantic request and response bodies, separate from tables and services."""
