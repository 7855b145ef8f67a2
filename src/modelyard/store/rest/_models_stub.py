"""The model registry over HTTP is not served yet: every call says so."""

from __future__ import annotations

from typing import Any, NoReturn

from modelyard.errors import StoreError


class UnservedModelRegistry:
    """Stands in for ``store.models`` against a server that does not serve the registry."""

    def __init__(self, url: str) -> None:
        self._url = url

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)

        def unserved(*_args: Any, **_kwargs: Any) -> NoReturn:
            raise StoreError(
                f"the model registry ({name}) is not available through the yard server at "
                f"{self._url} yet; use the database directly (YARD_URI=postgresql://...)"
            )

        return unserved
