"""The draw's fields of every register row, as columns: no Python object per resident.

A million residents as :class:`~survey.register.reader.Person` tuples cost about 200 MB and a
second to build; as columns (Arrow strings for the ids, NumPy arrays for the rest) they cost
about 40 MB. :class:`Persons` is still a sequence of ``Person`` (built on access), so code
that walks a small register row by row reads it as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any, overload

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from survey.register.reader import Person


class Persons(Sequence[Person]):
    """Columns in row order: line, resident and household ids, birth date, sex, district."""

    def __init__(
        self,
        line: np.ndarray,
        resident_id: pa.Array,
        household_id: pa.Array,
        birth: np.ndarray,  # proleptic Gregorian ordinal (date.toordinal)
        sex: np.ndarray,
        district: np.ndarray,  # index into ``districts``
        districts: Sequence[str],
    ) -> None:
        self.line = line
        self.resident_id = resident_id
        self.household_id = household_id
        self.birth = birth
        self.sex = sex
        self.district = district
        self.districts = list(districts)
        encoded = pc.dictionary_encode(household_id)
        # Households as integers: their frames and counts are array operations.
        self.household = encoded.indices.to_numpy(zero_copy_only=False)
        self.household_names = encoded.dictionary

    @classmethod
    def of(cls, persons: Iterable[Person]) -> Persons:
        if isinstance(persons, Persons):
            return persons
        rows = list(persons)
        names = sorted({p.district for p in rows})
        code = {name: i for i, name in enumerate(names)}
        return cls(
            np.array([p.line for p in rows], dtype=np.int64),
            pa.array([p.resident_id for p in rows], type=pa.string()),
            pa.array([p.household_id for p in rows], type=pa.string()),
            np.array([p.birth_date.toordinal() for p in rows], dtype=np.int32),
            np.array([p.sex for p in rows], dtype=np.int8),
            np.array([code[p.district] for p in rows], dtype=np.int16),
            names,
        )

    def __len__(self) -> int:
        return len(self.line)

    def person(self, i: int) -> Person:
        return Person(
            int(self.line[i]),
            self.resident_id[i].as_py(),
            self.household_id[i].as_py(),
            date.fromordinal(int(self.birth[i])),
            int(self.sex[i]),
            self.districts[int(self.district[i])],
        )

    @overload
    def __getitem__(self, i: int) -> Person: ...
    @overload
    def __getitem__(self, i: slice) -> list[Person]: ...
    def __getitem__(self, i: int | slice) -> Person | list[Person]:
        if isinstance(i, slice):
            return [self.person(k) for k in range(len(self))[i]]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self.person(i)

    def __iter__(self) -> Iterator[Person]:
        rids = self.resident_id.to_pylist()
        hids = self.household_id.to_pylist()
        for i in range(len(self)):
            yield Person(
                int(self.line[i]),
                rids[i],
                hids[i],
                date.fromordinal(int(self.birth[i])),
                int(self.sex[i]),
                self.districts[int(self.district[i])],
            )

    def born_after(self, day: date) -> int:
        return int(np.count_nonzero(self.birth > day.toordinal()))


def concat(parts: list[dict[str, Any]], districts: Sequence[str]) -> Persons:
    """One table from chunks of columns, sorted by line (rows checked one by one come last)."""
    line = np.concatenate([p["line"] for p in parts]) if parts else np.zeros(0, np.int64)
    order = np.argsort(line, kind="stable")
    take = pa.array(order)

    def strings(key: str) -> pa.Array:
        arrays = [p[key] for p in parts] or [pa.array([], pa.string())]
        return pa.concat_arrays([a.cast(pa.string()) for a in arrays]).take(take)

    def ints(key: str, dtype: Any) -> np.ndarray:
        arrays = [np.asarray(p[key], dtype=dtype) for p in parts] or [np.zeros(0, dtype)]
        return np.concatenate(arrays)[order]

    return Persons(
        line[order],
        strings("resident_id"),
        strings("household_id"),
        ints("birth", np.int32),
        ints("sex", np.int8),
        ints("district", np.int16),
        districts,
    )
