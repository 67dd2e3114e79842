"""plmodel.frozen: a record behaves as `@dataclass(frozen=True)` does, its methods compiled on first use."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from dataclasses import dataclass, field
from typing import ClassVar

import pytest

from plmodel.frozen import WARM_CALLS, OnFirstUse, frozen
from plmodel.step import Step


def declared(decorator) -> tuple:
    """(Base, Child): one declaration under `decorator`, @dataclass(frozen=True) or @frozen (made now: a
    record's methods not yet compiled)."""

    @decorator
    class Base:
        """A dataclass."""

        x: int
        y: float = 2.0
        z: tuple = field(default_factory=tuple)
        note: str = field(default="", compare=False)
        hidden: int = field(default=0, repr=False)
        KIND: ClassVar[str] = "base"

        def __post_init__(self):
            if self.x < 0:
                raise ValueError("x must be >= 0")

    @decorator
    class Child(Base):
        w: int = 5

    return Base, Child


def records() -> tuple:
    """(RecordBase, RecordChild) made now: their methods not yet compiled."""
    return declared(frozen)


PlainBase, PlainChild = declared(dataclass(frozen=True))


def compiled(cls):
    """`cls` with its methods compiled (looked up on the class)."""
    for name in ("__init__", "__repr__", "__eq__", "__hash__"):
        getattr(cls, name)
    return cls


RecordBase, RecordChild = records()


@dataclass(frozen=True)
class DataclassOnRecord(RecordBase):
    """A third party's frozen dataclass on a record (a design on Design)."""

    q: int = 1


class Undecorated(RecordBase):
    """A plain subclass: it runs the record's methods."""


def tiers() -> list:
    """[(plain, record, tier)]: each record class generic (fresh) and compiled."""
    out = []
    for tier in ("generic", "compiled"):
        made = records() if tier == "generic" else tuple(compiled(c) for c in records())
        out += [(PlainBase, made[0], tier), (PlainChild, made[1], tier)]
    return out


def shown(obj) -> str:
    """An object's repr without the class's qualified name."""
    return repr(obj).split("(", 1)[1]


@pytest.mark.parametrize("plain, made, tier", tiers())
def test_a_record_behaves_as_a_frozen_dataclass(plain, made, tier):
    record = made if tier == "generic" else compiled(made)
    for args, kwargs in (((1,), {}), ((1, 3.5, (2,)), {"note": "n", "hidden": 4}), ((0,), {"z": (1, 2)})):
        p, r = plain(*args, **kwargs), record(*args, **kwargs)
        assert shown(p) == shown(r) and repr(r).startswith(f"{record.__qualname__}(")
        assert dataclasses.asdict(p) == dataclasses.asdict(r)
        assert [f.name for f in dataclasses.fields(p)] == [f.name for f in dataclasses.fields(r)]
        assert r == record(*args, **kwargs) and hash(r) == hash(record(*args, **kwargs))
        assert r == dataclasses.replace(r, note="other")  # compare=False: not compared, not hashed
        assert hash(r) == hash(dataclasses.replace(r, note="other"))
        assert r != dataclasses.replace(r, x=r.x + 1) and (p != dataclasses.replace(p, x=p.x + 1))
        assert dataclasses.replace(r, y=9.0).y == 9.0
        assert copy.deepcopy(r) == r
    assert str(inspect.signature(plain)) == str(inspect.signature(record))
    assert dataclasses.is_dataclass(record) and record.__dataclass_params__.frozen


@pytest.mark.parametrize("plain, record, tier", tiers())
def test_a_record_refuses_what_a_frozen_dataclass_refuses(plain, record, tier):
    r = record(1)
    for act, error in ((lambda o: setattr(o, "x", 3), dataclasses.FrozenInstanceError),
                       (lambda o: delattr(o, "x"), dataclasses.FrozenInstanceError),
                       (lambda o: setattr(o, "new", 1), dataclasses.FrozenInstanceError)):
        with pytest.raises(error):
            act(plain(1))
        with pytest.raises(error):
            act(r)
    with pytest.raises(ValueError, match="x must be"):
        record(-1)
    for args, kwargs in (((), {}), ((1,) * 9, {}), ((1,), {"x": 2}), ((1,), {"nothing": 2})):
        with pytest.raises(TypeError):  # no x; too many; x twice; no such field
            record(*args, **kwargs)
        with pytest.raises(TypeError):
            plain(*args, **kwargs)


def test_a_record_pickles():
    """Module-level records cross process boundaries (the sweeps' and fleet's worker processes)."""
    r = Step("decode", 2, 10)
    assert pickle.loads(pickle.dumps(r)) == r and pickle.loads(pickle.dumps(r)).context_tokens == 10


def test_records_and_dataclasses_compare_by_class():
    assert RecordBase(1) != RecordChild(1) and RecordBase(1) != PlainBase(1)
    assert RecordChild(1) != DataclassOnRecord(1)


def test_a_dataclass_and_a_plain_class_may_inherit_from_a_record():
    d = DataclassOnRecord(1, q=4)
    assert (d.x, d.q) == (1, 4) and repr(d).endswith("DataclassOnRecord(x=1, y=2.0, z=(), note='', q=4)")
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.q = 5  # noqa - the refusal is the test
    u = Undecorated(2)
    assert u.x == 2 and u == Undecorated(2) and u != RecordBase(2)


def test_methods_are_compiled_after_their_warm_calls_only():
    @frozen
    class Fresh:
        a: int

    made = [Fresh(i) for i in range(WARM_CALLS)]
    assert all(isinstance(vars(Fresh)[m], OnFirstUse) for m in ("__init__", "__eq__", "__hash__", "__repr__"))
    Fresh(0)
    assert not isinstance(vars(Fresh)["__init__"], OnFirstUse)
    assert isinstance(vars(Fresh)["__eq__"], OnFirstUse)
    assert [m == Fresh(m.a) for m in made] == [True] * WARM_CALLS and Fresh(1) == Fresh(1)
    assert not isinstance(vars(Fresh)["__eq__"], OnFirstUse)
    assert Fresh.__doc__ == "Fresh(a)"


def test_what_a_record_does_not_take_is_refused_when_declared():
    with pytest.raises(TypeError, match="follows default"):
        @frozen
        class Disordered:
            a: int = 1
            b: int

    with pytest.raises(TypeError, match="init=False"):
        @frozen
        class NotInit:
            a: int = field(default=1, init=False)

    with pytest.raises(TypeError, match="InitVar"):
        @frozen
        class WithInitVar:
            a: dataclasses.InitVar[int]


def test_a_fields_name_must_be_an_identifier():
    """The compiled methods are written from the fields' names: nothing else reaches their source."""
    for name in ("a=1):\n import os\n#", "x y", ""):
        with pytest.raises(TypeError, match="identifier"):
            frozen(type("Odd", (), {"__annotations__": {name: "int"}}))


def test_a_record_refuses_what_dataclasses_refuses_when_declared():
    @dataclass
    class Mutable:
        a: int = 1

    with pytest.raises(TypeError, match="non-frozen"):
        @frozen
        class OnMutable(Mutable):
            b: int = 2

    with pytest.raises(ValueError, match="mutable default"):
        @frozen
        class ListDefault:
            a: list = []  # noqa: RUF012 - the refusal is the test

    with pytest.raises(TypeError, match="__setattr__"):
        @frozen
        class OwnSetattr:
            a: int = 1

            def __setattr__(self, name, value):
                pass


def test_a_records_fields_are_a_dataclasses():
    """The same Fields, ClassVar left out, each option as declared; a method of the class's own is kept."""
    keys = ("name", "type", "default", "repr", "compare", "hash", "init", "kw_only")
    for plain, made in ((PlainBase, RecordBase), (PlainChild, RecordChild)):
        assert [tuple(getattr(f, k) for k in keys) for f in dataclasses.fields(plain)] == \
               [tuple(getattr(f, k) for k in keys) for f in dataclasses.fields(made)]
        assert made.__match_args__ == plain.__match_args__ and made.KIND == "base" and made.y == 2.0

    @frozen
    class OwnRepr:
        a: int
        meta: int = field(default=0, metadata={"unit": "s"})

        def __repr__(self):
            return "mine"

    assert repr(OwnRepr(1)) == "mine" and dataclasses.fields(OwnRepr)[1].metadata["unit"] == "s"
