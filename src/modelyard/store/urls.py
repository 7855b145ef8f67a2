"""Telling store locations apart without loading any backend."""

from __future__ import annotations


def is_rest_url(url: str) -> bool:
    """True for a team server address (``http(s)://``), false for a database URL or folder."""
    return url.startswith(("http://", "https://"))
