"""Datasets and their immutable versions.

Recording a version is one transaction: the dataset is created on first use, the version gets
the next number, and both are audited. Content equal to the latest version's records nothing.
"""

from __future__ import annotations

import difflib

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from modelyard.domain.datasets import (
    Dataset,
    DatasetKind,
    DatasetVersion,
    NewDatasetVersion,
    TableProfile,
    VersionAdded,
)
from modelyard.domain.uris import DatasetRef, check_dataset_name, dataset_uri
from modelyard.errors import AlreadyExists, DatasetNotFound, InvalidName
from modelyard.store.sql._database import Database, now_ms
from modelyard.store.sql._schema import DatasetRow, DatasetVersionRow

_ATTEMPTS = 5  # concurrent writers on PostgreSQL may race for the next number


def _version(name: str, row) -> DatasetVersion:  # type: ignore[no-untyped-def]
    return DatasetVersion(
        dataset=name,
        number=row.number,
        content_digest=row.content_digest,
        manifest_digest=row.manifest_digest,
        kind=DatasetKind(row.kind),
        message=row.message,
        author=row.author,
        created_at=row.created_at,
        total_size=row.total_size,
        file_count=row.file_count,
        source=row.source,
        profile=TableProfile.from_dict(row.profile) if row.profile else None,
    )


class SqlDatasetStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add_version(self, new: NewDatasetVersion) -> VersionAdded:
        check_dataset_name(new.dataset)
        for attempt in range(_ATTEMPTS):
            try:
                with self._db.write() as conn:
                    return self._add(conn, new)
            except AlreadyExists:  # another writer took the number (or created the dataset)
                if attempt == _ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _add(self, conn: Connection, new: NewDatasetVersion) -> VersionAdded:
        dataset_id = conn.execute(
            select(DatasetRow.id).where(DatasetRow.name == new.dataset)
        ).scalar()
        if dataset_id is None:
            dataset_id = conn.execute(
                DatasetRow.__table__.insert()
                .values(name=new.dataset, description="", created_at=now_ms())
                .returning(DatasetRow.id)
            ).scalar_one()
            self._db.audit(conn, "dataset.create", f"data:{new.dataset}", {"id": dataset_id})
        latest = conn.execute(
            select(DatasetVersionRow)
            .where(DatasetVersionRow.dataset_id == dataset_id)
            .order_by(DatasetVersionRow.number.desc())
            .limit(1)
        ).first()
        if latest is not None and latest.content_digest == new.content_digest:
            return VersionAdded(_version(new.dataset, latest), created=False)
        number = 1 if latest is None else latest.number + 1
        row = conn.execute(
            DatasetVersionRow.__table__.insert()
            .values(
                dataset_id=dataset_id,
                number=number,
                content_digest=new.content_digest,
                manifest_digest=new.manifest_digest,
                kind=new.kind.value,
                message=new.message,
                author=new.author,
                created_at=now_ms(),
                total_size=new.total_size,
                file_count=new.file_count,
                rows=new.profile.rows if new.profile else None,
                source=new.source,
                profile=new.profile.to_dict() if new.profile else None,
            )
            .returning(*DatasetVersionRow.__table__.c)
        ).one()
        self._db.audit(
            conn,
            "dataset.version.add",
            dataset_uri(new.dataset, number),
            {
                "before": latest.content_digest if latest is not None else None,
                "after": new.content_digest,
                "manifest": new.manifest_digest,
                "files": new.file_count,
                "bytes": new.total_size,
            },
        )
        return VersionAdded(_version(new.dataset, row), created=True)

    def get(self, name: str) -> Dataset:
        with self._db.read() as conn:
            row = self._dataset(conn, name)
            latest = self._latest(conn, row.id)
        return Dataset(row.name, row.description, row.created_at, _maybe(row.name, latest))

    def list(self) -> list[Dataset]:
        newest = (
            select(DatasetVersionRow.dataset_id, func.max(DatasetVersionRow.number).label("number"))
            .group_by(DatasetVersionRow.dataset_id)
            .subquery()
        )
        version = DatasetVersionRow.__table__
        stmt = (
            select(
                DatasetRow.name.label("dataset_name"),
                DatasetRow.description.label("dataset_description"),
                DatasetRow.created_at.label("dataset_created_at"),
                *version.c,
            )
            .outerjoin(newest, newest.c.dataset_id == DatasetRow.id)
            .outerjoin(
                version,
                (version.c.dataset_id == DatasetRow.id) & (version.c.number == newest.c.number),
            )
            .order_by(DatasetRow.name)
        )
        with self._db.read() as conn:
            rows = conn.execute(stmt).all()
        return [
            Dataset(
                row.dataset_name,
                row.dataset_description,
                row.dataset_created_at,
                _version(row.dataset_name, row) if row.number is not None else None,
            )
            for row in rows
        ]

    def versions(self, name: str) -> list[DatasetVersion]:
        with self._db.read() as conn:
            dataset = self._dataset(conn, name)
            rows = conn.execute(
                select(DatasetVersionRow)
                .where(DatasetVersionRow.dataset_id == dataset.id)
                .order_by(DatasetVersionRow.number)
            ).all()
        return [_version(dataset.name, r) for r in rows]

    def resolve(self, ref: DatasetRef) -> DatasetVersion:
        with self._db.read() as conn:
            dataset = self._dataset(conn, ref.name)
            if ref.is_latest:
                row = self._latest(conn, dataset.id)
                if row is None:
                    raise DatasetNotFound(f"dataset {ref.name!r} has no versions yet")
                return _version(dataset.name, row)
            if ref.number is not None:
                row = conn.execute(
                    select(DatasetVersionRow).where(
                        DatasetVersionRow.dataset_id == dataset.id,
                        DatasetVersionRow.number == ref.number,
                    )
                ).first()
                if row is None:
                    newest = self._latest(conn, dataset.id)
                    known = f"1 to {newest.number}" if newest is not None else "none yet"
                    raise DatasetNotFound(
                        f"dataset {ref.name!r} has no version {ref.number} (versions: {known}); "
                        f"`yard data versions {ref.name}` lists them"
                    )
                return _version(dataset.name, row)
            pattern = f"blake3:{ref.digest_prefix}%"
            rows = conn.execute(
                select(DatasetVersionRow)
                .where(
                    DatasetVersionRow.dataset_id == dataset.id,
                    DatasetVersionRow.content_digest.like(pattern),
                )
                .order_by(DatasetVersionRow.number)
            ).all()
        distinct = {r.content_digest for r in rows}
        if not rows:
            raise DatasetNotFound(
                f"no version of {ref.name!r} has a digest starting with {ref.digest_prefix!r}; "
                f"`yard data versions {ref.name}` lists the digests"
            )
        if len(distinct) > 1:
            numbers = ", ".join(str(r.number) for r in rows)
            raise InvalidName(
                f"digest prefix {ref.digest_prefix!r} matches versions {numbers} of "
                f"{ref.name!r}; give more digits",
                field="dataset",
            )
        return _version(dataset.name, rows[-1])  # the same content re-added later: the newest

    def find_by_source(self, source: str) -> DatasetVersion | None:
        """The newest version, of any dataset, that was added from ``source``."""
        with self._db.read() as conn:
            row = conn.execute(
                select(DatasetRow.name.label("dataset_name"), *DatasetVersionRow.__table__.c)
                .join(DatasetRow, DatasetRow.id == DatasetVersionRow.dataset_id)
                .where(DatasetVersionRow.source == source)
                .order_by(DatasetVersionRow.created_at.desc(), DatasetVersionRow.pk.desc())
                .limit(1)
            ).first()
        if row is None:
            return None
        return _version(row.dataset_name, row)

    def _dataset(self, conn: Connection, name: str):  # type: ignore[no-untyped-def]
        row = conn.execute(select(DatasetRow).where(DatasetRow.name == name)).first()
        if row is None:
            names = conn.execute(select(DatasetRow.name)).scalars().all()
            close = difflib.get_close_matches(name, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else "; `yard data list` shows them"
            raise DatasetNotFound(f"no dataset named {name!r}{hint}")
        return row

    def _latest(self, conn: Connection, dataset_id: int):  # type: ignore[no-untyped-def]
        return conn.execute(
            select(DatasetVersionRow)
            .where(DatasetVersionRow.dataset_id == dataset_id)
            .order_by(DatasetVersionRow.number.desc())
            .limit(1)
        ).first()


def _maybe(name: str, row) -> DatasetVersion | None:  # type: ignore[no-untyped-def]
    return _version(name, row) if row is not None else None
