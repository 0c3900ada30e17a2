"""Domain events as versioned pydantic models, a registry of their types, and upcasters from old versions."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

JsonDict = dict[str, Any]
Upcaster = Callable[[JsonDict], JsonDict]
E = TypeVar("E", bound="DomainEvent")


class DomainEvent(BaseModel):
    """A fact that happened, named in the past tense.

    `occurred_on` is the business date of the fact (what reports "as of D" count by); the envelope's
    `time` is when it was recorded.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1

    occurred_on: date

    @classmethod
    def type_name(cls) -> str:
        return versioned_type_name(cls.event_type, cls.event_version)


def versioned_type_name(event_type: str, version: int) -> str:
    return f"{event_type}.v{version}"


@functools.lru_cache(maxsize=4096)
def split_type_name(type_name: str) -> tuple[str, int]:
    base, _, suffix = type_name.rpartition(".v")
    if not base or not suffix.isdigit():
        raise UnknownEventTypeError(f"'{type_name}' is not a versioned event type name")
    return base, int(suffix)


class EventParseError(Exception):
    """An event that cannot be read: unknown type, no upcaster path, or data that does not fit its model."""


def data_does_not_fit(type_name: str, error: ValidationError) -> EventParseError:
    return EventParseError(f"'{type_name}' data does not fit its model: {error}")


class UnknownEventTypeError(EventParseError):
    pass


class NewerVersionError(EventParseError):
    """A version of a known type that this reader does not know yet: wait for an upgrade, do not skip it."""


class EventRegistry:
    """Knows every event type a service writes or reads, and how to bring old versions up to date."""

    def __init__(self) -> None:
        self._current: dict[str, type[DomainEvent]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        # by versioned type name, as they are used; a type's model never changes once registered, and the upcasters
        # of older versions are looked up as each is read
        self._loaders: dict[str, Callable[[JsonDict], DomainEvent]] = {}

    def register(self, cls: type[E]) -> type[E]:
        existing = self._current.get(cls.event_type)
        if existing is not None and existing is not cls:
            raise ValueError(f"event type {cls.event_type} is registered twice")
        self._current[cls.event_type] = cls
        return cls

    def register_all(self, classes: Iterable[type[DomainEvent]]) -> EventRegistry:
        for cls in classes:
            self.register(cls)
        return self

    def upcaster(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Declare how data of `from_version` becomes data of `from_version + 1`."""

        def decorate(fn: Upcaster) -> Upcaster:
            self._upcasters[(event_type, from_version)] = fn
            return fn

        return decorate

    def upcasts(self, event_type: str, from_version: int) -> bool:
        """Whether data of `from_version` can be brought up to the current version of `event_type`."""
        current = self._current.get(event_type)
        if current is None or from_version > current.event_version:
            return False
        return all((event_type, v) in self._upcasters for v in range(from_version, current.event_version))

    def knows(self, type_name: str) -> bool:
        base, _ = split_type_name(type_name)
        return base in self._current

    def model_for(self, type_name: str) -> type[DomainEvent]:
        base, _ = split_type_name(type_name)
        try:
            return self._current[base]
        except KeyError:
            raise UnknownEventTypeError(f"unknown event type '{type_name}'") from None

    def load(self, type_name: str, data: JsonDict) -> DomainEvent:
        try:
            return self._loader(type_name)(data)
        except ValidationError as error:
            raise data_does_not_fit(type_name, error) from error

    def loader(self, type_name: str) -> Callable[[JsonDict], DomainEvent] | None:
        """What `load` calls for data of `type_name` (it raises pydantic's `ValidationError` where `load` raises
        `data_does_not_fit`), or None for a type this registry does not know: one look-up per event for a reader
        that takes only the types it knows, where `knows` and then `load` cost three."""
        loader = self._loaders.get(type_name)
        if loader is None and self.knows(type_name):
            loader = self._loader(type_name)
        return loader

    def _loader(self, type_name: str) -> Callable[[JsonDict], DomainEvent]:
        """What turns data of `type_name` into its current model, made once per type name: the model's validator
        itself for the current version (`model_validate` is that validator behind a layer of Python that costs
        as much again, per event of a fold), the upcasters before it for older ones."""
        loader = self._loaders.get(type_name)
        if loader is None:
            loader = self._loaders[type_name] = self._new_loader(type_name)
        return loader

    def _new_loader(self, type_name: str) -> Callable[[JsonDict], DomainEvent]:
        base, version = split_type_name(type_name)
        cls = self.model_for(type_name)
        validate: Callable[[JsonDict], DomainEvent] = cls.__pydantic_validator__.validate_python
        if version == cls.event_version:
            return validate
        target = cls.event_version
        if version > target:
            raise NewerVersionError(f"'{base}' version {version} is newer than this reader knows ({target})")
        missing = [each for each in range(version, target) if (base, each) not in self._upcasters]
        if missing:  # refused before it is kept: only type names that load are kept
            raise EventParseError(f"no upcaster for '{base}' from version {missing[0]}")
        return lambda data: validate(self._upcast(base, version, target, data))

    def _upcast(self, base: str, version: int, target: int, data: JsonDict) -> JsonDict:
        if version > target:
            raise NewerVersionError(f"'{base}' version {version} is newer than this reader knows ({target})")
        while version < target:
            step = self._upcasters.get((base, version))
            if step is None:
                raise EventParseError(f"no upcaster for '{base}' from version {version}")
            data = step(dict(data))
            version += 1
        return data

    def json_schemas(self) -> dict[str, JsonDict]:
        """The JSON Schema of every current event type, keyed by its versioned type name."""
        return {cls.type_name(): event_json_schema(cls) for cls in self._current.values()}

    def __iter__(self) -> Any:
        return iter(self._current.values())


def event_json_schema(cls: type[DomainEvent]) -> JsonDict:
    schema = cls.model_json_schema()
    schema["$id"] = schema_uri(cls.event_type, cls.event_version)
    schema["title"] = cls.type_name()
    if cls.__doc__:
        schema["description"] = " ".join(cls.__doc__.split())
    return schema


def schema_uri(event_type: str, version: int) -> str:
    return f"urn:metrology:schema:{event_type}:{version}"


class ConsumedEvent(DomainEvent):
    """A consumer's view of another service's event: only the fields it needs, the rest ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")
