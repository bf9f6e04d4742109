"""Python SDK for the Labelgate REST API (httpx).

    from labelgate.client import Client
    lg = Client("http://127.0.0.1:8080", token="lgt_...")
    project = lg.create_project("shelves", label_schema={"classes": [{"name": "Product"}]})

Errors come back as Labelgate's own exceptions (``NotFoundError``, ``ConflictError`` ...), each
also an :class:`ApiError` carrying the HTTP status, the error code and the detail.
"""

from labelgate.client._errors import ApiError
from labelgate.client._http import Client

__all__ = ["ApiError", "Client"]
