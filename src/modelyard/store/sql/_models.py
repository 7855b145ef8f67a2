"""The model registry: registered models, numbered versions, tags and aliases.

Each operation is one write transaction that also records its audit event. Operations that
number versions or move aliases first lock the registered model's row (``SELECT ... FOR
UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises writers), so
concurrent registrations get distinct numbers and concurrent alias moves apply one after the
other, each recorded in the alias history with the version it replaced.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, literal, select, union_all, update
from sqlalchemy.engine import Connection

from modelyard.domain.models import (
    AliasChange,
    ModelRef,
    ModelVersion,
    NewModelVersion,
    RegisteredModel,
    VersionStatus,
    check_alias,
    check_model_name,
    model_version_uri,
)
from modelyard.domain.names import check_key, tag_text
from modelyard.errors import AlreadyExists, InvalidState, ModelNotFound
from modelyard.store.sql._database import Database, dialect_module, now_ms
from modelyard.store.sql._schema import (
    LineageRow,
    ModelAliasHistoryRow,
    ModelAliasRow,
    ModelVersionRow,
    ModelVersionTagRow,
    RegisteredModelRow,
    RegisteredModelTagRow,
)

_ATTEMPTS = 5  # concurrent first registrations on PostgreSQL may race to create the model
_MODELS = RegisteredModelRow.__table__
_VERSIONS = ModelVersionRow.__table__
_ALIASES = ModelAliasRow.__table__
_VERSION_TAGS = ModelVersionTagRow.__table__

# Statements of the hot paths (resolve, set_alias, add_version), built once: constructing a
# statement costs more than executing its cached compiled form.
_MODEL_LOCKED = select(_MODELS).where(_MODELS.c.name == bindparam("name")).with_for_update()
_VERSION = select(_VERSIONS).where(
    _VERSIONS.c.model_id == bindparam("model_id"), _VERSIONS.c.number == bindparam("number")
)
_VERSION_BY_NUMBER = (
    select(_VERSIONS)
    .join(_MODELS, _MODELS.c.id == _VERSIONS.c.model_id)
    .where(_MODELS.c.name == bindparam("name"), _VERSIONS.c.number == bindparam("number"))
)
_VERSION_BY_ALIAS = (
    select(_VERSIONS)
    .join(
        _ALIASES,
        and_(_ALIASES.c.model_id == _VERSIONS.c.model_id, _ALIASES.c.number == _VERSIONS.c.number),
    )
    .join(_MODELS, _MODELS.c.id == _VERSIONS.c.model_id)
    .where(_MODELS.c.name == bindparam("name"), _ALIASES.c.alias == bindparam("alias"))
)
_VERSION_EXTRAS = union_all(  # a version's tags and the aliases pointing at it, in one query
    select(
        literal("tag").label("kind"), _VERSION_TAGS.c.key.label("key"), _VERSION_TAGS.c.value
    ).where(_VERSION_TAGS.c.version_pk == bindparam("pk")),
    select(literal("alias"), _ALIASES.c.alias, literal("")).where(
        _ALIASES.c.model_id == bindparam("model_id"), _ALIASES.c.number == bindparam("number")
    ),
)
_ALIAS_TARGET = select(_ALIASES.c.number).where(
    _ALIASES.c.model_id == bindparam("model_id"), _ALIASES.c.alias == bindparam("alias")
)
_MAX_NUMBER = select(func.max(_VERSIONS.c.number)).where(
    _VERSIONS.c.model_id == bindparam("model_id")
)
_INSERT_VERSION = insert(_VERSIONS).returning(_VERSIONS.c.pk)
_INSERT_HISTORY = insert(ModelAliasHistoryRow)
_TOUCH_MODEL = (
    update(_MODELS).where(_MODELS.c.id == bindparam("model_pk")).values(updated_at=bindparam("now"))
)
_dialect_statements: dict[str, tuple[Any, Any]] = {}


def _upserts(conn: Connection) -> tuple[Any, Any]:
    """(alias upsert, lineage insert-or-ignore) for this connection's dialect."""
    name = conn.dialect.name
    found = _dialect_statements.get(name)
    if found is None:
        dialect = dialect_module(name)
        alias = dialect.insert(_ALIASES)
        alias = alias.on_conflict_do_update(
            index_elements=["model_id", "alias"],
            set_={
                "number": alias.excluded.number,
                "updated_by": alias.excluded.updated_by,
                "updated_at": alias.excluded.updated_at,
            },
        )
        lineage = dialect.insert(LineageRow).on_conflict_do_nothing()
        found = _dialect_statements[name] = (alias, lineage)
    return found


class SqlModelRegistryStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- registered models --------------------------------------------------------------------

    def create_model(self, name: str, description: str = "") -> RegisteredModel:
        check_model_name(name)
        with self._db.write() as conn:
            if conn.execute(select(_MODELS.c.id).where(_MODELS.c.name == name)).first():
                raise AlreadyExists(
                    f"model {name!r} is already registered; `yard models show {name}` shows it"
                )
            row = self._insert_model(conn, name, description)
            return self._registered(conn, row)

    def get_model(self, name: str) -> RegisteredModel:
        with self._db.read() as conn:
            return self._registered(conn, self._model(conn, name))

    def list_models(self) -> list[RegisteredModel]:
        with self._db.read() as conn:
            rows = conn.execute(select(RegisteredModelRow).order_by(_MODELS.c.name)).all()
            tags = _group(conn.execute(select(RegisteredModelTagRow)).all(), "model_id")
            aliases = _group(conn.execute(select(ModelAliasRow)).all(), "model_id")
            stats = {
                r.model_id: (r.latest, r.count)
                for r in conn.execute(
                    select(
                        ModelVersionRow.model_id,
                        func.max(ModelVersionRow.number).label("latest"),
                        func.count().label("count"),
                    )
                    .where(ModelVersionRow.status == VersionStatus.READY.value)
                    .group_by(ModelVersionRow.model_id)
                ).all()
            }
        return [
            _registered_model(
                row,
                {t.key: t.value for t in tags.get(row.id, ())},
                {a.alias: a.number for a in aliases.get(row.id, ())},
                *stats.get(row.id, (None, 0)),
            )
            for row in rows
        ]

    def set_model_tags(self, name: str, tags: Mapping[str, str]) -> RegisteredModel:
        checked = _checked_tags(tags)
        with self._db.write() as conn:
            model = self._model(conn, name, lock=True)
            before = _set_tags(conn, RegisteredModelTagRow, "model_id", model.id, checked)
            self._touch_model(conn, model.id)
            self._db.audit(
                conn,
                "model.tags.set",
                f"models:/{name}",
                {"before": before, "after": checked},
            )
            return self._registered(conn, self._model(conn, name))

    def describe_model(self, name: str, description: str) -> RegisteredModel:
        with self._db.write() as conn:
            model = self._model(conn, name, lock=True)
            conn.execute(
                update(_MODELS)
                .where(_MODELS.c.id == model.id)
                .values(description=description, updated_at=now_ms())
            )
            self._db.audit(
                conn,
                "model.describe",
                f"models:/{name}",
                {"before": model.description, "after": description},
            )
            return self._registered(conn, self._model(conn, name))

    # -- versions -----------------------------------------------------------------------------

    def add_version(self, new: NewModelVersion) -> ModelVersion:
        check_model_name(new.name)
        tags = _checked_tags(new.tags)
        for attempt in range(_ATTEMPTS):
            try:
                with self._db.write() as conn:
                    return self._add_version(conn, new, tags)
            except AlreadyExists:  # another writer created the model first: number again
                if attempt == _ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _add_version(
        self, conn: Connection, new: NewModelVersion, tags: Mapping[str, str]
    ) -> ModelVersion:
        model = conn.execute(_MODEL_LOCKED, {"name": new.name}).first()
        if model is None:
            model = self._insert_model(conn, new.name, "")
        number = (conn.execute(_MAX_NUMBER, {"model_id": model.id}).scalar() or 0) + 1
        now = now_ms()
        values = {
            "model_id": model.id,
            "number": number,
            "package_digest": new.package_digest,
            "flavor": new.flavor,
            "source": new.source,
            "run_id": new.run_id,
            "status": VersionStatus.READY.value,
            "description": new.description,
            "created_by": self._db.actor,
            "created_at": now,
            "updated_at": now,
        }
        pk = conn.execute(_INSERT_VERSION, values).scalar_one()
        if tags:
            conn.execute(
                ModelVersionTagRow.__table__.insert(),
                [{"version_pk": pk, "key": k, "value": v} for k, v in tags.items()],
            )
        uri = model_version_uri(new.name, number)
        if new.run_id is not None:  # lineage: runs:/<id> -produced-> models:/name/n
            conn.execute(
                _upserts(conn)[1],
                {
                    "source": f"runs:/{new.run_id}",
                    "target": uri,
                    "relation": "produced",
                    "created_at": now,
                },
            )
        conn.execute(_TOUCH_MODEL, {"model_pk": model.id, "now": now})
        self._db.audit(
            conn,
            "model.version.create",
            uri,
            {
                "package": new.package_digest,
                "flavor": new.flavor,
                "source": new.source,
                "run": new.run_id,
            },
        )
        return ModelVersion(
            name=new.name,
            number=number,
            package_digest=new.package_digest,
            flavor=new.flavor,
            source=new.source,
            run_id=new.run_id,
            status=VersionStatus.READY,
            description=new.description,
            created_by=self._db.actor,
            created_at=now,
            updated_at=now,
            tags=dict(tags),
        )

    def get_version(self, name: str, number: int) -> ModelVersion:
        with self._db.read() as conn:
            model = self._model(conn, name)
            return self._version(conn, name, self._version_row(conn, model.id, name, number))

    def versions(self, name: str, *, include_deleted: bool = False) -> list[ModelVersion]:
        with self._db.read() as conn:
            model = self._model(conn, name)
            stmt = select(ModelVersionRow).where(ModelVersionRow.model_id == model.id)
            if not include_deleted:
                stmt = stmt.where(ModelVersionRow.status == VersionStatus.READY.value)
            rows = conn.execute(stmt.order_by(ModelVersionRow.number)).all()
            return self._versions(conn, name, model.id, rows)

    def versions_of_run(self, run_id: str) -> list[ModelVersion]:
        with self._db.read() as conn:
            rows = conn.execute(
                select(RegisteredModelRow.name.label("model_name"), *_VERSIONS.c)
                .join(RegisteredModelRow, _MODELS.c.id == ModelVersionRow.model_id)
                .where(ModelVersionRow.run_id == run_id)
                .order_by(RegisteredModelRow.name, ModelVersionRow.number)
            ).all()
            return [self._version(conn, r.model_name, r) for r in rows]

    def resolve(self, ref: ModelRef) -> ModelVersion:
        """The READY version ``ref`` names; deleted versions and unknown aliases are errors."""
        with self._db.read() as conn:
            row = None
            if ref.alias is not None:
                params = {"name": ref.name, "alias": ref.alias}
                row = conn.execute(_VERSION_BY_ALIAS, params).first()
            elif ref.number is not None:
                row = conn.execute(
                    _VERSION_BY_NUMBER, {"name": ref.name, "number": ref.number}
                ).first()
            if row is not None and row.status == VersionStatus.READY.value:
                return self._version(conn, ref.name, row)
            model = self._model(conn, ref.name)  # the slow path: say what is wrong
            if ref.alias is not None:
                alias = conn.execute(
                    select(ModelAliasRow.number).where(
                        ModelAliasRow.model_id == model.id, ModelAliasRow.alias == ref.alias
                    )
                ).scalar()
                if alias is None:
                    known = (
                        conn.execute(
                            select(ModelAliasRow.alias)
                            .where(ModelAliasRow.model_id == model.id)
                            .order_by(ModelAliasRow.alias)
                        )
                        .scalars()
                        .all()
                    )
                    raise ModelNotFound(
                        f"model {ref.name!r} has no alias {ref.alias!r}"
                        + _suggest(ref.alias, known, "aliases")
                        + f"; set one with `yard models alias {ref.name} <version> {ref.alias}`"
                    )
                number = alias
            elif ref.number is not None:
                number = ref.number
            else:
                number = conn.execute(
                    select(func.max(ModelVersionRow.number)).where(
                        ModelVersionRow.model_id == model.id,
                        ModelVersionRow.status == VersionStatus.READY.value,
                    )
                ).scalar()
                if number is None:
                    raise ModelNotFound(f"model {ref.name!r} has no versions yet")
            row = self._version_row(conn, model.id, ref.name, number)
            if row.status == VersionStatus.DELETED.value:
                raise ModelNotFound(
                    f"version {number} of model {ref.name!r} is deleted; "
                    f"`yard models versions {ref.name}` lists the versions you can load"
                )
            return self._version(conn, ref.name, row)

    def set_version_tags(self, name: str, number: int, tags: Mapping[str, str]) -> ModelVersion:
        checked = _checked_tags(tags)
        with self._db.write() as conn:
            model = self._model(conn, name, lock=True)
            row = self._version_row(conn, model.id, name, number)
            before = _set_tags(conn, ModelVersionTagRow, "version_pk", row.pk, checked)
            self._touch_version(conn, row.pk)
            self._db.audit(
                conn,
                "model.version.tags.set",
                model_version_uri(name, number),
                {"before": before, "after": checked},
            )
            return self._version(conn, name, self._version_row(conn, model.id, name, number))

    def describe_version(self, name: str, number: int, description: str) -> ModelVersion:
        with self._db.write() as conn:
            model = self._model(conn, name, lock=True)
            row = self._version_row(conn, model.id, name, number)
            conn.execute(
                update(_VERSIONS)
                .where(_VERSIONS.c.pk == row.pk)
                .values(description=description, updated_at=now_ms())
            )
            self._db.audit(
                conn,
                "model.version.describe",
                model_version_uri(name, number),
                {"before": row.description, "after": description},
            )
            return self._version(conn, name, self._version_row(conn, model.id, name, number))

    def delete_version(self, name: str, number: int) -> ModelVersion:
        """Mark a version DELETED (its package stays in the blob store). Refused while an
        alias points at it: move or remove the alias first."""
        with self._db.write() as conn:
            model = self._model(conn, name, lock=True)
            row = self._version_row(conn, model.id, name, number)
            aliases = self._aliases_of(conn, model.id, number)
            if aliases:
                raise InvalidState(
                    f"version {number} of model {name!r} is the target of alias(es) "
                    f"{', '.join(aliases)}; move them first (`yard models alias {name} "
                    f"<version> {aliases[0]}`)"
                )
            if row.status == VersionStatus.DELETED.value:
                return self._version(conn, name, row)
            conn.execute(
                update(_VERSIONS)
                .where(_VERSIONS.c.pk == row.pk)
                .values(status=VersionStatus.DELETED.value, updated_at=now_ms())
            )
            self._db.audit(
                conn,
                "model.version.delete",
                model_version_uri(name, number),
                {"before": row.status, "after": VersionStatus.DELETED.value},
            )
            return self._version(conn, name, self._version_row(conn, model.id, name, number))

    # -- aliases ------------------------------------------------------------------------------

    def set_alias(
        self, name: str, alias: str, number: int, check: Callable[[AliasChange], None]
    ) -> AliasChange:
        """Point ``alias`` at version ``number``; ``check`` (the policy) may refuse by raising."""
        check_alias(alias)
        with self._db.write() as conn:
            model = conn.execute(_MODEL_LOCKED, {"name": name}).first()
            if model is None:
                model = self._model(conn, name)  # raises, naming the models there are
            row = conn.execute(_VERSION, {"model_id": model.id, "number": number}).first()
            if row is None:
                row = self._version_row(conn, model.id, name, number)  # raises
            VersionStatus(row.status).check_aliasable(name, number)
            before = self._alias_target(conn, model.id, alias)
            now = now_ms()
            change = AliasChange(name, alias, before, number, self._db.actor, now)
            check(change)
            if before == number:
                return change
            conn.execute(
                _upserts(conn)[0],
                {
                    "model_id": model.id,
                    "alias": alias,
                    "number": number,
                    "updated_by": self._db.actor,
                    "updated_at": now,
                },
            )
            self._record_move(conn, model.id, change)
            return change

    def delete_alias(
        self, name: str, alias: str, check: Callable[[AliasChange], None]
    ) -> AliasChange:
        check_alias(alias)
        with self._db.write() as conn:
            model = self._model(conn, name, lock=True)
            before = self._alias_target(conn, model.id, alias)
            if before is None:
                raise ModelNotFound(f"model {name!r} has no alias {alias!r}; nothing to remove")
            change = AliasChange(name, alias, before, None, self._db.actor, now_ms())
            check(change)
            conn.execute(
                ModelAliasRow.__table__.delete().where(
                    ModelAliasRow.model_id == model.id, ModelAliasRow.alias == alias
                )
            )
            self._record_move(conn, model.id, change)
            return change

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasChange]:
        with self._db.read() as conn:
            model = self._model(conn, name)
            stmt = select(ModelAliasHistoryRow).where(ModelAliasHistoryRow.model_id == model.id)
            if alias is not None:
                stmt = stmt.where(ModelAliasHistoryRow.alias == alias)
            rows = conn.execute(stmt.order_by(ModelAliasHistoryRow.id)).all()
        return [AliasChange(name, r.alias, r.before, r.after, r.actor, r.timestamp) for r in rows]

    def _record_move(self, conn: Connection, model_id: int, change: AliasChange) -> None:
        conn.execute(
            _INSERT_HISTORY,
            {
                "model_id": model_id,
                "alias": change.alias,
                "before": change.before,
                "after": change.after,
                "actor": change.actor,
                "timestamp": change.timestamp,
            },
        )
        conn.execute(_TOUCH_MODEL, {"model_pk": model_id, "now": change.timestamp})
        self._db.audit(
            conn,
            "model.alias.set" if change.after is not None else "model.alias.delete",
            f"models:/{change.model}",
            {"alias": change.alias, "before": change.before, "after": change.after},
        )

    # -- helpers ------------------------------------------------------------------------------

    def _insert_model(self, conn: Connection, name: str, description: str):  # type: ignore[no-untyped-def]
        now = now_ms()
        row = conn.execute(
            _MODELS.insert()
            .values(
                name=name,
                description=description,
                owner=self._db.actor,
                created_at=now,
                updated_at=now,
            )
            .returning(*_MODELS.c)
        ).one()
        self._db.audit(conn, "model.create", f"models:/{name}", {"owner": self._db.actor})
        return row

    def _model(self, conn: Connection, name: str, *, lock: bool = False):  # type: ignore[no-untyped-def]
        stmt = select(RegisteredModelRow).where(_MODELS.c.name == name)
        row = conn.execute(stmt.with_for_update() if lock else stmt).first()
        if row is None:
            names = conn.execute(select(_MODELS.c.name)).scalars().all()
            raise ModelNotFound(
                f"no registered model named {name!r}"
                + _suggest(name, names, "models")
                + "; `yard models list` shows them"
            )
        return row

    def _version_row(self, conn: Connection, model_id: int, name: str, number: int):  # type: ignore[no-untyped-def]
        row = conn.execute(
            select(ModelVersionRow).where(
                ModelVersionRow.model_id == model_id, ModelVersionRow.number == number
            )
        ).first()
        if row is None:
            newest = conn.execute(
                select(func.max(ModelVersionRow.number)).where(ModelVersionRow.model_id == model_id)
            ).scalar()
            known = f"1 to {newest}" if newest else "none yet"
            raise ModelNotFound(
                f"model {name!r} has no version {number} (versions: {known}); "
                f"`yard models versions {name}` lists them"
            )
        return row

    def _alias_target(self, conn: Connection, model_id: int, alias: str) -> int | None:
        return conn.execute(_ALIAS_TARGET, {"model_id": model_id, "alias": alias}).scalar()

    def _aliases_of(self, conn: Connection, model_id: int, number: int) -> list[str]:
        return list(
            conn.execute(
                select(ModelAliasRow.alias)
                .where(ModelAliasRow.model_id == model_id, ModelAliasRow.number == number)
                .order_by(ModelAliasRow.alias)
            ).scalars()
        )

    def _touch_model(self, conn: Connection, model_id: int) -> None:
        conn.execute(update(_MODELS).where(_MODELS.c.id == model_id).values(updated_at=now_ms()))

    def _touch_version(self, conn: Connection, pk: int) -> None:
        conn.execute(update(_VERSIONS).where(_VERSIONS.c.pk == pk).values(updated_at=now_ms()))

    def _registered(self, conn: Connection, row) -> RegisteredModel:  # type: ignore[no-untyped-def]
        tags = _tag_map(conn, RegisteredModelTagRow, RegisteredModelTagRow.model_id, row.id)
        aliases = {
            a.alias: a.number
            for a in conn.execute(
                select(ModelAliasRow)
                .where(ModelAliasRow.model_id == row.id)
                .order_by(ModelAliasRow.alias)
            ).all()
        }
        latest, count = conn.execute(
            select(func.max(ModelVersionRow.number), func.count()).where(
                ModelVersionRow.model_id == row.id,
                ModelVersionRow.status == VersionStatus.READY.value,
            )
        ).one()
        return _registered_model(row, tags, aliases, latest, count)

    def _version(self, conn: Connection, name: str, row) -> ModelVersion:  # type: ignore[no-untyped-def]
        tags: dict[str, str] = {}
        aliases: list[str] = []
        params = {"pk": row.pk, "model_id": row.model_id, "number": row.number}
        for extra in conn.execute(_VERSION_EXTRAS, params):
            if extra.kind == "tag":
                tags[extra.key] = extra.value
            else:
                aliases.append(extra.key)
        return _model_version(name, row, tags, sorted(aliases))

    def _versions(self, conn: Connection, name: str, model_id: int, rows) -> list[ModelVersion]:  # type: ignore[no-untyped-def]
        if not rows:
            return []
        pks = [r.pk for r in rows]
        tags = _group(
            conn.execute(
                select(ModelVersionTagRow).where(ModelVersionTagRow.version_pk.in_(pks))
            ).all(),
            "version_pk",
        )
        aliases: dict[int, list[str]] = {}
        for a in conn.execute(
            select(ModelAliasRow)
            .where(ModelAliasRow.model_id == model_id)
            .order_by(ModelAliasRow.alias)
        ).all():
            aliases.setdefault(a.number, []).append(a.alias)
        return [
            _model_version(
                name,
                r,
                {t.key: t.value for t in tags.get(r.pk, ())},
                aliases.get(r.number, ()),
            )
            for r in rows
        ]


def _model_version(name: str, r, tags: dict[str, str], aliases) -> ModelVersion:  # type: ignore[no-untyped-def]
    return ModelVersion(
        name=name,
        number=r.number,
        package_digest=r.package_digest,
        flavor=r.flavor,
        source=r.source,
        run_id=r.run_id,
        status=VersionStatus(r.status),
        description=r.description,
        created_by=r.created_by,
        created_at=r.created_at,
        updated_at=r.updated_at,
        tags=tags,
        aliases=tuple(aliases),
    )


def _registered_model(row, tags, aliases, latest, count) -> RegisteredModel:  # type: ignore[no-untyped-def]
    return RegisteredModel(
        name=row.name,
        description=row.description,
        owner=row.owner,
        created_at=row.created_at,
        updated_at=row.updated_at,
        tags=tags,
        aliases=aliases,
        latest_version=latest,
        version_count=count or 0,
    )


def _checked_tags(tags: Mapping[str, Any]) -> dict[str, str]:
    return {check_key(k, "tag"): tag_text(k, v) for k, v in tags.items()}


def _tag_map(conn: Connection, table, column, owner: int) -> dict[str, str]:  # type: ignore[no-untyped-def]
    rows = conn.execute(select(table.key, table.value).where(column == owner)).all()
    return {r.key: r.value for r in rows}


def _set_tags(  # type: ignore[no-untyped-def]
    conn: Connection, table, owner: str, owner_id: int, tags: Mapping[str, str]
) -> dict[str, str | None]:
    """Upsert ``tags`` of one model or version; what those keys held before (None: unset)."""
    before = _tag_map(conn, table, getattr(table, owner), owner_id)
    for key, value in tags.items():
        _upsert(conn, table, {owner: owner_id, "key": key, "value": value}, (owner, "key"))
    return {key: before.get(key) for key in tags}


def _group(rows: Iterable[Any], attribute: str) -> dict[Any, list[Any]]:
    grouped: dict[Any, list[Any]] = {}
    for row in rows:
        grouped.setdefault(getattr(row, attribute), []).append(row)
    return grouped


def _upsert(conn: Connection, table, values: dict[str, Any], keys: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    dialect = dialect_module(conn.dialect.name)
    stmt = dialect.insert(table).values(**values)
    changes = {k: v for k, v in values.items() if k not in keys}
    conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=changes))


def _suggest(name: str, known: Iterable[str], what: str) -> str:
    known = list(known)
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    if known:
        return f" ({what}: {', '.join(known[:10])})"
    return ""
