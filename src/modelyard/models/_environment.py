"""Whether this environment has the library versions a model was saved with.

MODEL.yaml pins the flavor's libraries (its ``PACKAGES``) as ``name==version``, taken from
the environment that saved the model. Loading compares those pins with what is installed
and, when any differ (patch, minor or major), warns once with a ``ModelEnvironmentWarning``
naming every difference. It never refuses: the flavor's own loader decides whether it can
read the file, and a pinned library that is not installed is left to the flavor, which says
what to install.
"""

from __future__ import annotations

import importlib.metadata
import sys
import warnings
from dataclasses import dataclass

from modelyard.models import flavors
from modelyard.models._package import DESCRIPTOR, Descriptor


class ModelEnvironmentWarning(UserWarning):
    """A model is loaded with other versions of its libraries than it was saved with."""


@dataclass(frozen=True, slots=True)
class LibraryMismatch:
    name: str
    saved: str
    installed: str


def environment_mismatches(descriptor: Descriptor) -> tuple[LibraryMismatch, ...]:
    """The flavor's pinned libraries that are installed here at another version."""
    wanted = flavors.get_flavor(descriptor.flavor).PACKAGES
    found = []
    for pin in descriptor.requirements:
        name, exact, saved = pin.partition("==")
        if not exact or name not in wanted:
            continue
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        if installed != saved:
            found.append(LibraryMismatch(name, saved, installed))
    return tuple(found)


def warn_on_mismatch(descriptor: Descriptor, label: str) -> None:
    """One ``ModelEnvironmentWarning`` listing every mismatch, if there is any."""
    mismatches = environment_mismatches(descriptor)
    if not mismatches:
        return
    if label.startswith(("models:/", "runs:/")):
        hint = f"`yard models env {label} --create DIR` makes a virtualenv with the saved versions"
    else:
        hint = f"its {DESCRIPTOR} lists the saved versions"
    warnings.warn(
        f"{label} was saved with {', '.join(f'{m.name} {m.saved}' for m in mismatches)}; "
        f"this environment has {', '.join(f'{m.name} {m.installed}' for m in mismatches)}: "
        f"predictions may differ ({hint})",
        ModelEnvironmentWarning,
        stacklevel=_caller_outside_models(),
    )


def _caller_outside_models() -> int:
    """The ``stacklevel`` of the nearest caller outside ``modelyard.models``, so that the
    warning points at the user's ``load_model`` or ``ModelClient.load`` line."""
    ours = "modelyard.models."
    level, frame = 1, sys._getframe(1)  # the function that warns is stacklevel 1
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith(ours):
        level, frame = level + 1, frame.f_back
    return level
