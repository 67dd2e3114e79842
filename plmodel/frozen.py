"""`@frozen`: a frozen dataclass declared at a fraction of the cost, its methods compiled when they are used.

Why: on Python 3.11 `@dataclass(frozen=True)` compiles six functions a class (`__init__`, `__repr__`,
`__eq__`, `__hash__`, `__setattr__`, `__delattr__`) and parses every string annotation twice as its module
is imported, about 1 ms a class, and `plmodel estimate` declares some fifty classes and calls few of those
methods: that was half of its start-up beyond numpy's import (benchmarks/startup.py).

A record is a dataclass to `dataclasses`: `fields`, `replace`, `asdict` and `is_dataclass` read the
`Field`s in `__dataclass_fields__` (made by `dataclasses.field`, its bases' first), and its
`__dataclass_params__` says what it does (frozen, with init, repr and eq), so a plain `@dataclass(frozen=True)`
may inherit from a record (a third party's design from `Design`). Its `__init__`, `__repr__`, `__eq__` and
`__hash__` behave as those dataclasses generates: generic (the fields read in a loop) for their first
WARM_CALLS calls, then compiled from the source dataclasses writes; assignment and deletion raise
`FrozenInstanceError`. The one name it takes from dataclasses' insides is `_FIELD`, the mark `fields`
looks for (Python 3.10 to 3.13).

Supported: defaults, `field(default_factory=..., repr=..., compare=..., hash=..., metadata=...)`,
`__post_init__`, ClassVar, inheritance, methods of the class's own in place of the generated ones
(`__init__`, `__repr__`, `__eq__`, `__hash__`). Refused when the class is declared (TypeError or ValueError,
as dataclasses refuses or does otherwise): InitVar, KW_ONLY, `field(init=False)`, `kw_only`, a field
without a default after one with a default, a mutable default, `__setattr__` or `__delattr__` of its own,
inheriting from a dataclass that is not frozen.
"""

from __future__ import annotations

import dataclasses
import re

METHODS = ("__init__", "__repr__", "__eq__", "__hash__")
#: A string annotation that names ClassVar (dataclasses reads `typing.ClassVar[...]` and `ClassVar[...]` so).
CLASSVAR = re.compile(r"\s*(?:typing\.|t\.)?ClassVar\b")


def params():
    """The __dataclass_params__ every record shares: what `@dataclass(frozen=True)` states."""
    template = dataclasses.dataclass(init=False, repr=False, eq=False)(type("Record", (), {"__doc__": "documented"}))
    p = template.__dataclass_params__
    p.init = p.repr = p.eq = p.frozen = True
    return p


PARAMS = params()


def frozen(cls):
    """The class as a frozen dataclass, its methods made when used (see the module's docstring)."""
    fields = declare(cls)
    own = vars(cls)
    if "__setattr__" in own or "__delattr__" in own:
        raise TypeError(f"Cannot overwrite attribute __setattr__ or __delattr__ in class {cls.__name__}")
    cls.__setattr__, cls.__delattr__ = frozen_setattr(cls, fields)
    explicit_hash = "__hash__" in own and not (own["__hash__"] is None and "__eq__" in own)
    for name in METHODS:
        if name not in own or (name == "__hash__" and not explicit_hash):
            setattr(cls, name, OnFirstUse(cls, name))
    if "__match_args__" not in own:
        cls.__match_args__ = tuple(f.name for f in fields)
    if not cls.__doc__:  # as dataclasses writes it: the class and its fields
        cls.__doc__ = f"{cls.__name__}({', '.join(f.name for f in fields)})"
    return cls


def declare(cls) -> list:
    """The fields of `cls`, its bases' first (as dataclasses collects them), set as its __dataclass_fields__ with
    the records' __dataclass_params__; its own class attributes hold the defaults. TypeError or ValueError for
    what a record does not take."""
    fields = {}
    for base in cls.__mro__[-1:0:-1]:
        declared = base.__dict__.get("__dataclass_fields__")
        if declared is not None:
            if not base.__dataclass_params__.frozen:
                raise TypeError("cannot inherit frozen dataclass from a non-frozen one")
            fields.update(declared)
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        text = annotation if isinstance(annotation, str) else repr(annotation)
        if CLASSVAR.match(text) or "typing.ClassVar" in text:
            continue
        if not name.isidentifier():  # the methods' source is written from the names: nothing else reaches it
            raise TypeError(f"{cls.__name__}: a field's name must be an identifier, got {name!r}")
        if "InitVar" in text or "KW_ONLY" in text:
            raise TypeError(f"{cls.__name__}.{name}: @frozen takes no InitVar or KW_ONLY")
        fields[name] = field_of(cls, name, annotation)
    check(cls, fields.values())
    cls.__dataclass_fields__, cls.__dataclass_params__ = fields, PARAMS
    return list(fields.values())


def field_of(cls, name: str, annotation):
    """The Field of attribute `name` of `cls` (its class attribute: the default, or a `field(...)`, which is
    replaced by its default or removed, as dataclasses does)."""
    value = cls.__dict__.get(name, dataclasses.MISSING)
    f = value if isinstance(value, dataclasses.Field) else dataclasses.field(default=value)
    f.name, f.type, f._field_type = name, annotation, dataclasses._FIELD  # the mark dataclasses.fields() keeps
    if f.kw_only is dataclasses.MISSING:  # as dataclasses settles it for a class without kw_only
        f.kw_only = False
    if isinstance(value, dataclasses.Field):
        if f.default is dataclasses.MISSING:
            delattr(cls, name)
        else:
            setattr(cls, name, f.default)
    if f.default is not dataclasses.MISSING and f.default.__class__.__hash__ is None:
        raise ValueError(f"mutable default {type(f.default)} for field {name} is not allowed: use default_factory")
    return f


def check(cls, fields) -> None:
    """TypeError for a field a record does not take, or a field without a default after one with a default."""
    defaulted = False
    for f in fields:
        if not f.init or f.kw_only:
            raise TypeError(f"{cls.__name__}.{f.name}: @frozen takes no field(init=False) or kw_only")
        has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        if defaulted and not has_default:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")
        defaulted = defaulted or has_default


def frozen_setattr(cls, fields) -> tuple:
    """(__setattr__, __delattr__) of a frozen dataclass: a field, or any name on the class itself, is refused."""
    names = frozenset(f.name for f in fields)

    def __setattr__(self, name, value):
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self, name):
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    __setattr__.__qualname__, __delattr__.__qualname__ = f"{cls.__qualname__}.__setattr__", f"{cls.__qualname__}.__delattr__"
    return __setattr__, __delattr__


class OnFirstUse:
    """A generated method of `cls`: for its first WARM_CALLS calls a generic one (it reads the fields in a loop,
    nothing to compile), then the one dataclasses would generate, compiled once and put in this descriptor's
    place on the class (at once where it is looked up on the class: a signature, help). A command that makes
    a few of an object pays no compile; a loop that makes thousands runs the compiled one."""

    def __init__(self, cls, name: str):
        self.cls, self.name, self.calls, self.generic = cls, name, 0, None

    def __get__(self, obj, owner=None):
        self.calls += 1
        if obj is not None and self.calls <= WARM_CALLS:
            self.generic = self.generic or generic(self.cls, self.name)
            return self.generic.__get__(obj, owner)
        fn = compiled(self.cls, self.name)
        setattr(self.cls, self.name, fn)
        return fn if obj is None else fn.__get__(obj, owner)


#: Calls of a record's method served by its generic version before it is compiled.
WARM_CALLS = 16


def generic(cls, name: str):
    """Method `name` of record `cls`, doing what the compiled one does by reading its fields in a loop."""
    fields = dataclasses.fields(cls)
    if name == "__init__":
        return generic_init(cls, fields)
    names = read_by(name, fields)
    if name == "__repr__":
        return lambda self: f"{self.__class__.__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in names)})"
    if name == "__eq__":
        def __eq__(self, other):
            if other.__class__ is self.__class__:
                return tuple(getattr(self, n) for n in names) == tuple(getattr(other, n) for n in names)
            return NotImplemented
        return __eq__
    return lambda self: hash(tuple(getattr(self, n) for n in names))


def read_by(name: str, fields) -> list:
    """The names of the fields method `name` reads, as dataclasses chooses them: those shown (__repr__), those
    compared (__eq__), those hashed (__hash__: the compared unless `hash` says otherwise)."""
    if name == "__repr__":
        return [f.name for f in fields if f.repr]
    if name == "__eq__":
        return [f.name for f in fields if f.compare]
    return [f.name for f in fields if (f.compare if f.hash is None else f.hash)]


def generic_init(cls, fields):
    """The generic __init__ of record `cls`: binds its arguments as the compiled one's signature does."""
    names, where, post_init = [f.name for f in fields], f"{cls.__qualname__}.__init__()", hasattr(cls, "__post_init__")

    def __init__(self, *args, **kwargs):
        if len(args) > len(names):
            raise TypeError(f"{where} takes {len(names) + 1} positional arguments but {len(args) + 1} were given")
        values = dict(zip(names, args))
        for key, value in kwargs.items():
            if key not in names or key in values:
                raise TypeError(f"{where} got {'multiple values for' if key in values else 'an unexpected keyword'} "
                                f"argument {key!r}")
            values[key] = value
        for f in fields:
            if f.name in values:
                value = values[f.name]
            elif f.default is not dataclasses.MISSING:
                value = f.default
            elif f.default_factory is not dataclasses.MISSING:
                value = f.default_factory()
            else:
                raise TypeError(f"{where} missing 1 required positional argument: {f.name!r}")
            object.__setattr__(self, f.name, value)
        if post_init:
            self.__post_init__()
    return __init__


def compiled(cls, name: str):
    """Method `name` of record `cls`, compiled from the source dataclasses would generate."""
    fields = dataclasses.fields(cls)
    scope = {"_record_setattr": object.__setattr__, "_record_factory": FACTORY}
    scope.update((f"_record_default_{f.name}", f.default_factory if f.default is dataclasses.MISSING else f.default)
                 for f in fields if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING)
    exec(source(cls, name, fields), scope)  # noqa: S102 - code written here from the class's field names, as dataclasses does
    fn = scope[name]
    fn.__qualname__ = f"{cls.__qualname__}.{name}"
    if name == "__init__":  # the signature dataclasses gives it
        fn.__annotations__ = {**{f.name: f.type for f in fields}, "return": None}
    return fn


class Factory:
    """The default of a field whose default its factory makes (shown as dataclasses shows it)."""

    def __repr__(self):
        return "<factory>"


FACTORY = Factory()


def source(cls, name: str, fields) -> str:
    """The def of method `name`, in the form dataclasses generates."""
    own = lambda names: "".join(f"self.{n}," for n in names)  # noqa: E731
    if name == "__init__":
        params, body = [], []
        for f in fields:
            value = f.name
            if f.default is not dataclasses.MISSING:
                params.append(f"{f.name}=_record_default_{f.name}")
            elif f.default_factory is not dataclasses.MISSING:
                params.append(f"{f.name}=_record_factory")
                value = f"_record_default_{f.name}() if {f.name} is _record_factory else {f.name}"
            else:
                params.append(f.name)
            body.append(f" _record_setattr(self, {f.name!r}, {value})")
        if hasattr(cls, "__post_init__"):
            body.append(" self.__post_init__()")
        return f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or " pass") + "\n"
    names = read_by(name, fields)
    if name == "__repr__":
        shown = ", ".join(f"{n}={{self.{n}!r}}" for n in names)
        return f"def __repr__(self):\n return self.__class__.__qualname__ + f'({shown})'\n"
    if name == "__eq__":
        other = own(names).replace("self.", "other.")
        return ("def __eq__(self, other):\n if other.__class__ is self.__class__:\n"
                f"  return ({own(names)}) == ({other})\n return NotImplemented\n")
    return f"def __hash__(self):\n return hash(({own(names)}))\n"
