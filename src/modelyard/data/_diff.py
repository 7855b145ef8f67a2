"""What changed between two versions: files, and for tabular versions schema, rows, columns."""

from __future__ import annotations

from dataclasses import dataclass

from modelyard.data._manifest import Manifest
from modelyard.domain.datasets import DatasetVersion, TableProfile


@dataclass(frozen=True, slots=True)
class ColumnShift:
    """How one column present in both versions moved."""

    name: str
    mean_before: float | None
    mean_after: float | None
    std_before: float | None
    std_after: float | None
    null_fraction_before: float
    null_fraction_after: float
    distinct_before: int | None
    distinct_after: int | None
    new_categories: tuple[str, ...]  # frequent values of the new version unseen in the old
    gone_categories: tuple[str, ...]

    @property
    def mean_shift_in_std(self) -> float | None:
        """How far the mean moved, in old standard deviations (None when not numeric)."""
        if self.mean_before is None or self.mean_after is None:
            return None
        if not self.std_before:
            return 0.0 if self.mean_after == self.mean_before else None
        return (self.mean_after - self.mean_before) / self.std_before

    @property
    def changed(self) -> bool:
        return (
            self.mean_before != self.mean_after
            or self.std_before != self.std_after
            or self.null_fraction_before != self.null_fraction_after
            or self.distinct_before != self.distinct_after
            or bool(self.new_categories or self.gone_categories)
        )


@dataclass(frozen=True, slots=True)
class SchemaChange:
    added: tuple[tuple[str, str], ...]  # (column, type)
    removed: tuple[tuple[str, str], ...]
    retyped: tuple[tuple[str, str, str], ...]  # (column, old type, new type)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.retyped)


@dataclass(frozen=True, slots=True)
class DatasetDiff:
    old: DatasetVersion
    new: DatasetVersion
    added: tuple[str, ...]
    removed: tuple[str, ...]
    modified: tuple[str, ...]
    unchanged: int
    rows_before: int | None = None
    rows_after: int | None = None
    schema: SchemaChange | None = None
    columns: tuple[ColumnShift, ...] = ()

    @property
    def identical(self) -> bool:
        return self.old.content_digest == self.new.content_digest


def diff_versions(
    old: DatasetVersion, old_manifest: Manifest, new: DatasetVersion, new_manifest: Manifest
) -> DatasetDiff:
    before, after = old_manifest.by_path(), new_manifest.by_path()
    if old.kind.value == "file" and new.kind.value == "file" and len(before) == len(after) == 1:
        # a single-file dataset keeps its identity across renames of the file
        (old_entry,), (new_entry,) = before.values(), after.values()
        same = old_entry.digest == new_entry.digest
        added: tuple[str, ...] = ()
        removed: tuple[str, ...] = ()
        modified = () if same else (new_entry.path,)
        if old_entry.path != new_entry.path:
            added, removed, modified = (new_entry.path,), (old_entry.path,), ()
        unchanged = 1 if same and old_entry.path == new_entry.path else 0
    else:
        added = tuple(sorted(after.keys() - before.keys()))
        removed = tuple(sorted(before.keys() - after.keys()))
        common = before.keys() & after.keys()
        modified = tuple(sorted(p for p in common if before[p].digest != after[p].digest))
        unchanged = len(common) - len(modified)
    result = DatasetDiff(old, new, added, removed, modified, unchanged)
    if old.profile is None or new.profile is None:
        return result
    return DatasetDiff(
        old,
        new,
        added,
        removed,
        modified,
        unchanged,
        rows_before=old.profile.rows,
        rows_after=new.profile.rows,
        schema=_schema(old.profile, new.profile),
        columns=_columns(old.profile, new.profile),
    )


def _schema(old: TableProfile, new: TableProfile) -> SchemaChange:
    a, b = old.schema, new.schema
    return SchemaChange(
        added=tuple((c, b[c]) for c in b if c not in a),
        removed=tuple((c, a[c]) for c in a if c not in b),
        retyped=tuple((c, a[c], b[c]) for c in b if c in a and a[c] != b[c]),
    )


def _columns(old: TableProfile, new: TableProfile) -> tuple[ColumnShift, ...]:
    shifts = []
    for after in new.columns:
        before = old.column(after.name)
        if before is None:
            continue
        old_top = {v for v, _ in before.top}
        new_top = {v for v, _ in after.top}
        # only trust "new"/"gone" when the old list was complete (all categories fit in top)
        complete_old = before.distinct is not None and before.distinct <= len(before.top)
        complete_new = after.distinct is not None and after.distinct <= len(after.top)
        shifts.append(
            ColumnShift(
                name=after.name,
                mean_before=before.mean,
                mean_after=after.mean,
                std_before=before.std,
                std_after=after.std,
                null_fraction_before=before.null_fraction,
                null_fraction_after=after.null_fraction,
                distinct_before=before.distinct,
                distinct_after=after.distinct,
                new_categories=tuple(v for v, _ in after.top if v not in old_top and complete_old),
                gone_categories=tuple(
                    v for v, _ in before.top if v not in new_top and complete_new
                ),
            )
        )
    return tuple(shifts)
