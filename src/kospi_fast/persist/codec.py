"""Typed JSON values: ints and strs as themselves, everything else tagged (``{"$float": …}``,
``{"$fraction": …}``, ``{"$event": …}``, ``{"$definition": …}``, …) so that values come back
exactly and of the same type. No pickle: decoding builds only the event classes of
:mod:`kospi_fast.events` (and those passed in ``event_types``) and kospi_fast's own records."""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from fractions import Fraction

import numpy as np

from kospi_fast.definitions import IndexDefinition
from kospi_fast.events import ALL_EVENTS, Event
from kospi_fast.state import RebaseRecord

__all__ = [
    "check_storable",
]

# ---------------------------------------------------------------------------- typed values
_SIMPLE_TAGS = ("$float", "$fraction", "$decimal", "$date", "$datetime", "$tuple", "$list", "$np",
                "$event", "$record", "$definition", "$dict")


def _event_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _enc(v: object, where: str, depth: int = 0) -> object:
    """Encode a value as typed JSON that decodes back to an equal value of the same type."""
    if v is None or type(v) in (bool, str, int):
        return v
    if depth > MAX_DEPTH:
        raise TypeError(f"{where}: cannot persist values nested deeper than {MAX_DEPTH} levels")
    depth += 1
    if isinstance(v, np.generic):
        if v.dtype.kind not in "biuf":
            raise TypeError(f"{where}: cannot persist the NumPy scalar {v!r} (dtype {v.dtype})")
        return {"$np": v.dtype.str, "hex": v.tobytes().hex()}
    t = type(v)
    if t is float:
        return {"$float": v.hex()}  # type: ignore[attr-defined]
    if t is Fraction:
        return {"$fraction": [v.numerator, v.denominator]}  # type: ignore[attr-defined]
    if t is Decimal:
        return {"$decimal": str(v)}
    if t is _dt.datetime:
        if v.tzinfo is not None and type(v.tzinfo) is not _dt.timezone:  # type: ignore[attr-defined]
            raise TypeError(f"{where}: cannot persist {v!r}: only naive or fixed-offset datetimes round-trip")
        return {"$datetime": v.isoformat()}  # type: ignore[attr-defined]
    if t is _dt.date:
        return {"$date": v.isoformat()}  # type: ignore[attr-defined]
    if t is tuple:
        return {"$tuple": [_enc(x, f"{where}[{k}]", depth) for k, x in enumerate(v)]}  # type: ignore[arg-type]
    if t is list:
        return {"$list": [_enc(x, f"{where}[{k}]", depth) for k, x in enumerate(v)]}  # type: ignore[arg-type]
    if isinstance(v, Event) and dataclasses.is_dataclass(v):
        return {
            "$event": _event_name(t),
            "fields": {f.name: _enc(getattr(v, f.name), f"{where}.{f.name}", depth) for f in dataclasses.fields(v)},
        }
    if t is RebaseRecord:
        return {"$record": {f.name: _enc(getattr(v, f.name), f"{where}.{f.name}", depth)
                            for f in dataclasses.fields(RebaseRecord)}}
    if t is IndexDefinition:
        return {"$definition": {f.name: _enc(getattr(v, f.name), f"{where}.{f.name}", depth)
                                for f in dataclasses.fields(IndexDefinition)}}
    if t is dict and all(type(k) is str for k in v):  # type: ignore[attr-defined]
        return {"$dict": {k: _enc(x, f"{where}[{k!r}]", depth) for k, x in v.items()}}  # type: ignore[attr-defined]
    raise TypeError(
        f"{where}: cannot persist a value of type {t.__module__}.{t.__qualname__} ({v!r}); "
        "supported: None, bool, int, float, str, Fraction, Decimal, date, datetime, tuple, list, "
        "NumPy numeric scalars, kospi_fast events"
    )


class _UnknownEventType(ValueError):
    pass


#: Deepest nesting of typed values a checkpoint may hold (what kospi_fast writes is a few levels:
#: an audit record holding events holding tuples); deeper is a crafted file, refused before
#: Python's recursion limit is near.
MAX_DEPTH = 32


class _Decoder:
    def __init__(self, event_types: Iterable[type]) -> None:
        self.events: dict[str, type] = {}
        for cls in (*ALL_EVENTS, *event_types):
            if not (isinstance(cls, type) and issubclass(cls, Event) and dataclasses.is_dataclass(cls)):
                raise TypeError(f"`event_types` must hold Event dataclasses, got {cls!r}")
            self.events[_event_name(cls)] = cls

    def __call__(self, v: object, where: str, depth: int = 0) -> object:
        if v is None or type(v) in (bool, str, int):
            return v
        if depth > MAX_DEPTH:
            raise ValueError(f"{where}: values nested deeper than {MAX_DEPTH} levels")
        depth += 1
        if type(v) is not dict or len(v) == 0:
            raise ValueError(f"{where}: unexpected JSON value {v!r}")
        tag = next(iter(v))
        if tag not in _SIMPLE_TAGS:
            raise ValueError(f"{where}: unknown value tag {tag!r}")
        x = v[tag]
        if tag == "$float":
            try:
                return float.fromhex(_str(x, where))
            except OverflowError:
                raise ValueError(f"{where}: float {x!r} is out of the float64 range") from None
        if tag == "$fraction":
            if not (type(x) is list and len(x) == 2 and all(type(y) is int for y in x)) or x[1] == 0:
                raise ValueError(f"{where}: bad fraction {x!r}")
            return Fraction(x[0], x[1])
        if tag == "$decimal":
            try:
                return Decimal(_str(x, where))
            except InvalidOperation:
                raise ValueError(f"{where}: bad decimal {x!r}") from None
        if tag == "$datetime":
            return _dt.datetime.fromisoformat(_str(x, where))
        if tag == "$date":
            return _dt.date.fromisoformat(_str(x, where))
        if tag in ("$tuple", "$list"):
            if type(x) is not list:
                raise ValueError(f"{where}: bad sequence {x!r}")
            items = [self(y, f"{where}[{k}]", depth) for k, y in enumerate(x)]
            return tuple(items) if tag == "$tuple" else items
        if tag == "$np":
            dt = np.dtype(_str(x, where))
            raw = bytes.fromhex(_str(v.get("hex"), where))
            if dt.kind not in "biuf" or len(raw) != dt.itemsize:
                raise ValueError(f"{where}: bad NumPy scalar {v!r}")
            return np.frombuffer(raw, dtype=dt)[0]
        if tag == "$event":
            return self.event(v, where, depth)
        if tag == "$dict":
            if type(x) is not dict:
                raise ValueError(f"{where}: bad dict {x!r}")
            return {k: self(y, f"{where}[{k!r}]", depth) for k, y in x.items()}
        if tag == "$definition":
            return self.definition(x, where, depth)
        return self.record(x, where, depth)

    def definition(self, x: object, where: str, depth: int = 0) -> IndexDefinition:
        if type(x) is not dict or not _fields_fit(IndexDefinition, x):
            raise ValueError(f"{where}: index definition fields do not match IndexDefinition")
        return IndexDefinition(**{k: self(fv, f"{where}.{k}", depth) for k, fv in x.items()})

    def event(self, v: dict, where: str, depth: int = 0) -> Event:
        name = _str(v["$event"], where)
        cls = self.events.get(name)
        if cls is None:
            raise _UnknownEventType(f"{where}: unknown event type {name!r} (pass its class in `event_types`)")
        fields = v.get("fields")
        if type(fields) is not dict:
            raise ValueError(f"{where}: event {name} has no fields")
        decl = {f.name: f for f in dataclasses.fields(cls)}
        if set(fields) != set(decl):
            raise ValueError(f"{where}: event {name} fields {sorted(fields)} do not match the class's {sorted(decl)}")
        values = {k: self(fv, f"{where}.{k}", depth) for k, fv in fields.items()}
        ev = cls(**{k: x for k, x in values.items() if decl[k].init})
        for k, x in values.items():
            if not decl[k].init:
                object.__setattr__(ev, k, x)
        return ev

    def record(self, x: object, where: str, depth: int = 0) -> RebaseRecord:
        if type(x) is not dict or not _fields_fit(RebaseRecord, x):
            raise ValueError(f"{where}: audit record fields do not match RebaseRecord")
        return RebaseRecord(**{k: self(fv, f"{where}.{k}", depth) for k, fv in x.items()})


def _fields_fit(cls: type, x: dict) -> bool:
    """Every key is a field of ``cls`` and every field missing has a default (a file written
    before the field was added, e.g. an index's ``returns``, reads with the default)."""
    decl = {f.name: f for f in dataclasses.fields(cls)}
    missing = [f for n, f in decl.items() if n not in x]
    return set(x) <= set(decl) and all(f.default is not dataclasses.MISSING
                                       or f.default_factory is not dataclasses.MISSING for f in missing)


def _str(x: object, where: str) -> str:
    if type(x) is not str:
        raise ValueError(f"{where}: expected a string, got {x!r}")
    return x


def _reject_json_float(s: str) -> float:
    raise ValueError(f"untagged JSON float {s!r}")


def check_storable(value: object, where: str) -> None:
    """Raise ``TypeError`` naming ``where`` when ``value`` cannot go into a checkpoint (what a
    book checks before it records a value, so that a later save cannot fail on it)."""
    _enc(value, where)
