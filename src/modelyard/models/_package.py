"""The model package: a folder of files described by ``MODEL.yaml``.

``MODEL.yaml`` names the flavor and its loader options, the signature, the input example,
the requirements (exact versions taken from the environment that saved the model), the
Python version, who created it when, and the digest and size of every other file. It is the
package's manifest: stored as a blob, its digest *is* the package digest, so a package is
immutable and verifiable from that one digest. Each file is a blob of its own.

Reading checks every file against its recorded digest and refuses a file that does not
match, naming it.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from modelyard.blobs import BlobStore
from modelyard.blobs.hashing import hash_bytes, hash_file
from modelyard.domain.names import check_artifact_path
from modelyard.errors import IntegrityError, InvalidState, InvalidValue, NotFound
from modelyard.models._signature import Signature

DESCRIPTOR = "MODEL.yaml"
FORMAT = "modelyard.model/1"
INPUT_EXAMPLE = "input_example.json"

try:  # the C loader parses MODEL.yaml ~10x faster; both are safe loaders
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader


@dataclass(frozen=True, slots=True)
class FileEntry:
    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class Descriptor:
    """The parsed ``MODEL.yaml``."""

    flavor: str
    options: Mapping[str, Any]
    python: str
    requirements: tuple[str, ...]
    files: Mapping[str, FileEntry]
    signature: Signature | None = None
    input_example: str | None = None  # a file name in ``files``
    created: Mapping[str, Any] = field(default_factory=dict)
    methods: tuple[str, ...] = ("predict",)

    @property
    def python_major(self) -> int:
        return int(self.python.split(".", 1)[0])

    def to_yaml(self) -> bytes:
        data: dict[str, Any] = {
            "format": FORMAT,
            "flavor": self.flavor,
            "loader": f"modelyard.models.flavors:{self.flavor}",
            "options": dict(self.options),
            "methods": list(self.methods),
            "python": self.python,
            "requirements": list(self.requirements),
            "signature": self.signature.to_dict() if self.signature else None,
            "input_example": self.input_example,
            "created": dict(self.created),
            "files": {
                name: {"digest": f.digest, "size": f.size} for name, f in sorted(self.files.items())
            },
        }
        return yaml.safe_dump(data, sort_keys=False).encode()

    @classmethod
    def from_yaml(cls, payload: bytes, where: str) -> Descriptor:
        try:
            data = yaml.load(payload, Loader=_Loader)
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError(
                    f"format is {data.get('format') if isinstance(data, dict) else data!r}"
                )
            files = {
                check_artifact_path(name): FileEntry(str(entry["digest"]), int(entry["size"]))
                for name, entry in (data.get("files") or {}).items()
            }
            signature = data.get("signature")
            return cls(
                flavor=str(data["flavor"]),
                options=dict(data.get("options") or {}),
                python=str(data["python"]),
                requirements=tuple(str(r) for r in data.get("requirements") or ()),
                files=files,
                signature=Signature.from_dict(signature) if signature else None,
                input_example=data.get("input_example"),
                created=dict(data.get("created") or {}),
                methods=tuple(data.get("methods") or ("predict",)),
            )
        except (yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
            raise InvalidValue(
                f"{DESCRIPTOR} of {where} is not a modelyard model descriptor ({exc}); "
                f"was it written by another tool? Expected format {FORMAT}",
                field="model",
            ) from exc


def requirements_for(packages: Sequence[str]) -> tuple[str, ...]:
    """``name==version`` for each installed distribution in ``packages`` (others skipped)."""
    pins = []
    for name in dict.fromkeys(packages):
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return tuple(pins)


def python_version() -> str:
    return platform.python_version()


def finish_folder(folder: Path, descriptor_fields: Mapping[str, Any]) -> Descriptor:
    """Hash every file in ``folder`` and write its ``MODEL.yaml``; return the descriptor."""
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if name == DESCRIPTOR:
            continue
        digest, size = hash_file(path)
        files[check_artifact_path(name)] = FileEntry(digest, size)
    descriptor = Descriptor(files=files, **descriptor_fields)
    (folder / DESCRIPTOR).write_bytes(descriptor.to_yaml())
    return descriptor


def store_folder(blobs: BlobStore, folder: Path) -> tuple[str, Descriptor, dict[str, FileEntry]]:
    """Store every file of a finished package folder, ``MODEL.yaml`` last.

    Returns the package digest (that of MODEL.yaml), the descriptor and every stored file
    (MODEL.yaml included) for recording as run artifacts."""
    payload = (folder / DESCRIPTOR).read_bytes()
    descriptor = Descriptor.from_yaml(payload, str(folder))
    stored: dict[str, FileEntry] = {}
    for name, entry in descriptor.files.items():
        digest, size = blobs.put_file(folder / name)
        if digest != entry.digest:
            raise IntegrityError(
                f"{folder / name} changed after its package was written; save the model again"
            )
        stored[name] = FileEntry(digest, size)
    package_digest, size = blobs.put_bytes(payload)
    stored[DESCRIPTOR] = FileEntry(package_digest, size)
    return package_digest, descriptor, stored


class PackageFiles:
    """Verified access to a package's files, from the blob store or from a local folder."""

    def __init__(
        self,
        descriptor: Descriptor,
        label: str,
        payload: bytes,
        *,
        blobs: BlobStore | None = None,
        folder: Path | None = None,
    ) -> None:
        self.descriptor = descriptor
        self.label = label
        self.payload = payload  # the MODEL.yaml bytes, as stored
        self._blobs = blobs
        self._folder = folder
        self._tmp: Path | None = None

    def entry(self, name: str) -> FileEntry:
        entry = self.descriptor.files.get(name)
        if entry is None:
            raise NotFound(
                f"model package {self.label} has no file {name!r}; its files are: "
                f"{', '.join(sorted(self.descriptor.files)) or 'none'}"
            )
        return entry

    def read(self, name: str) -> bytes:
        """The bytes of ``name``, verified against MODEL.yaml."""
        entry = self.entry(name)
        if self._blobs is not None:
            try:
                data = self._blobs.get_bytes(entry.digest)
            except IntegrityError as exc:
                raise self._tampered(name) from exc
        else:
            assert self._folder is not None
            try:
                data = (self._folder / name).read_bytes()
            except FileNotFoundError:
                raise NotFound(
                    f"model package {self.label} is missing its file {name!r}; download the "
                    "package again"
                ) from None
            if hash_bytes(data) != entry.digest:
                raise self._tampered(name)
        return data

    def path(self, name: str) -> Path:
        """A local file holding the verified bytes of ``name`` (copied out of the blob store
        into a private temporary folder when needed)."""
        if self._folder is not None:
            self.read(name)
            return self._folder / name
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="yard-model-"))
        target = self._tmp / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(self.read(name))
        return target

    def cleanup(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def _tampered(self, name: str) -> IntegrityError:
        return IntegrityError(
            f"file {name!r} of model package {self.label} does not match the digest recorded "
            f"in {DESCRIPTOR}; it was modified after the model was saved, so it is not loaded. "
            "Restore it from a backup or log the model again"
        )


def open_blob_package(blobs: BlobStore, package_digest: str, label: str) -> PackageFiles:
    try:
        payload = blobs.get_bytes(package_digest)
    except IntegrityError as exc:
        raise IntegrityError(
            f"{DESCRIPTOR} of model package {label} does not match its digest; it was "
            "modified after the model was saved, so it is not loaded"
        ) from exc
    return PackageFiles(_parsed(package_digest, payload, label), label, payload, blobs=blobs)


_PARSED_MAX = 256
_parsed_descriptors: dict[str, Descriptor] = {}


def _parsed(package_digest: str, payload: bytes, label: str) -> Descriptor:
    """The descriptor of a stored package, parsed once per process: the same digest is the
    same verified bytes (registering 200 versions of one package parses it once)."""
    found = _parsed_descriptors.get(package_digest)
    if found is None:
        found = Descriptor.from_yaml(payload, label)
        if len(_parsed_descriptors) >= _PARSED_MAX:
            _parsed_descriptors.pop(next(iter(_parsed_descriptors)))
        _parsed_descriptors[package_digest] = found
    return found


def open_folder_package(folder: Path) -> PackageFiles:
    path = folder / DESCRIPTOR
    if not path.is_file():
        raise NotFound(f"{folder} holds no {DESCRIPTOR}; it is not a modelyard model package")
    payload = path.read_bytes()
    return PackageFiles(
        Descriptor.from_yaml(payload, str(folder)), str(folder), payload, folder=folder
    )


def check_python(descriptor: Descriptor, label: str) -> None:
    running = platform.python_version_tuple()[0]
    if str(descriptor.python_major) != running:
        raise InvalidState(
            f"model {label} was saved with Python {descriptor.python}, and this is Python "
            f"{platform.python_version()}; load it with Python {descriptor.python_major} "
            f"(`yard models env` prints its requirements)"
        )


def download(files: PackageFiles, destination: Path) -> Path:
    """Write the package (MODEL.yaml and every file, verified) into ``destination``."""
    destination.mkdir(parents=True, exist_ok=True)
    if any(destination.iterdir()):
        raise InvalidValue(
            f"{destination} is not empty; download into a new or empty folder",
            field="destination",
        )
    with _staging(destination) as staging:
        for name in files.descriptor.files:
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(files.read(name))
        (staging / DESCRIPTOR).write_bytes(files.payload)
    return destination


@contextlib.contextmanager
def _staging(destination: Path) -> Iterator[Path]:
    """A sibling folder that replaces ``destination`` only once everything is written."""
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
    try:
        yield staging
        for child in staging.iterdir():
            os.replace(child, destination / child.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
