"""Check evaluations over HTTP are not served yet: every call says so."""

from __future__ import annotations

from typing import Any, NoReturn

from modelyard.errors import StoreError


class UnservedEvaluations:
    """Stands in for ``store.evaluations`` against a server that does not serve them."""

    def __init__(self, url: str) -> None:
        self._url = url

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)

        def unserved(*_args: Any, **_kwargs: Any) -> NoReturn:
            raise StoreError(
                f"check evaluations ({name}) are not served by the yard server at {self._url} "
                "yet; use the database directly (YARD_URI=postgresql://...)"
            )

        return unserved
