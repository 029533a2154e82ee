"""The HTTP service and web page: ``create_app(...)`` builds the FastAPI app over the library."""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from overclaim.web.app import create_app

        return create_app
    raise AttributeError(name)
