"""Published event contracts: the JSON Schema of every event type and version, committed under `contracts/`.

`contracts/<service>/<fact>.v<N>.json` holds the schema of `vn.metrology.<service>.<fact>.v<N>` as published.
A published schema may change, within its version, only by gaining optional properties. Everything else is a
breaking change and is refused, naming the field and the rule:

- `property-removed`: a property of the published schema is gone (`property-renamed` when a new property with
  the very same schema appeared beside it);
- `required-property-added` / `newly-required`: a new property, or an optional one, is now required;
- `no-longer-required`: a required property became optional (readers relied on it being there);
- `type-changed`: the JSON types a value may take changed (e.g. `string` became `string | null`);
- `format-changed`: the format of a string changed (e.g. `date` became `date-time`);
- `enum-narrowed` / `enum-widened`: the allowed values lost or gained members (old events, or old readers);
- `default-changed`: the value a missing optional property stands for changed;
- `additional-properties-changed`: whether unknown properties are allowed changed;
- `schema-changed`: any other change of a property's schema.

The same rules apply inside nested objects and array items (the field is named `a.b`, `a[]`). Descriptions,
titles and examples may change freely. A breaking change ships as a new version of the type with an upcaster
from the old one: the old version's file stays, the new version's file is added.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from metrology.eventkit.events import ConsumedEvent, DomainEvent, EventRegistry, event_json_schema, split_type_name

JsonDict = dict[str, Any]
ANNOTATIONS = frozenset({"title", "description", "examples", "$comment", "$id", "$schema", "$defs"})
PUBLISH_HINT = "run `metrology-{service} schemas --write contracts` to publish it"


@dataclass(frozen=True, slots=True)
class Breach:
    """One breaking difference between a published schema and the current one."""

    field: str
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"field '{self.field or '(event)'}' {self.detail} (rule {self.rule})"


class ContractBreachError(Exception):
    """A schema differs from its published contract in a way that breaks readers."""


def service_of(event_type: str) -> str:
    """`vn.metrology.<service>.<fact>` -> `<service>`."""
    return event_type.split(".")[2]


def fact_of(event_type: str) -> str:
    return event_type.split(".", 3)[3]


def published_types(registry: EventRegistry, service: str) -> list[type[DomainEvent]]:
    """The event types `service` writes (its registry may also hold the views of events it reads)."""
    return sorted(
        (cls for cls in registry if not issubclass(cls, ConsumedEvent) and service_of(cls.event_type) == service),
        key=lambda cls: cls.event_type,
    )


def contract_path(root: Path, event_type: str, version: int) -> Path:
    return root / service_of(event_type) / f"{fact_of(event_type)}.v{version}.json"


def read_contract(root: Path, event_type: str, version: int) -> JsonDict | None:
    path = contract_path(root, event_type, version)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def committed_versions(root: Path, service: str) -> dict[str, list[int]]:
    """Every committed contract of `service`: full event type -> its published versions, ascending."""
    found: dict[str, list[int]] = {}
    for path in sorted((root / service).glob("*.v*.json")):
        fact, version = split_type_name(path.name.removesuffix(".json"))
        found.setdefault(f"vn.metrology.{service}.{fact}", []).append(version)
    return {event_type: sorted(versions) for event_type, versions in found.items()}


def publish(root: Path, classes: Iterable[type[DomainEvent]]) -> list[str]:
    """Write the contract of every type whose file is missing, or whose schema only gained optional properties.

    Raises ContractBreachError (before writing anything) if any schema breaks its published contract.
    """
    pending: list[tuple[Path, JsonDict]] = []
    for cls in classes:
        schema = event_json_schema(cls)
        published = read_contract(root, cls.event_type, cls.event_version)
        if published == schema:
            continue
        if published is not None:
            breaches = breaking_changes(published, schema)
            if breaches:
                raise ContractBreachError(f"{cls.type_name()}: " + "; ".join(map(str, breaches)))
        pending.append((contract_path(root, cls.event_type, cls.event_version), schema))
    for path, schema in pending:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return [str(path) for path, _ in pending]


def contract_problems(root: Path, service: str, registry: EventRegistry) -> list[str]:
    """What the evolution gate refuses for `service`: unpublished, broken, orphaned or unreachable contracts."""
    current = {cls.event_type: cls for cls in published_types(registry, service)}
    problems: list[str] = []
    for cls in current.values():
        problems += _problems_of_current(root, service, cls)
    for event_type, versions in committed_versions(root, service).items():
        problems += _problems_of_committed(registry, current.get(event_type), event_type, versions)
    return problems


def _problems_of_current(root: Path, service: str, cls: type[DomainEvent]) -> list[str]:
    name, version = cls.type_name(), cls.event_version
    published = read_contract(root, cls.event_type, version)
    if published is None:
        return [f"{name} is not published: {PUBLISH_HINT.format(service=service)}"]
    problems = [
        f"{name}: {breach}; a breaking change ships as v{version + 1} with an upcaster from v{version}"
        for breach in breaking_changes(published, event_json_schema(cls))
    ]
    if version > 1 and read_contract(root, cls.event_type, version - 1) is None:
        problems.append(f"{name}: the contract of v{version - 1} is gone (published versions stay forever)")
    return problems


def _problems_of_committed(
    registry: EventRegistry, cls: type[DomainEvent] | None, event_type: str, versions: list[int]
) -> list[str]:
    if cls is None:
        return [f"{event_type} is published but no longer written (a published type cannot disappear)"]
    problems = []
    for version in versions:
        if version > cls.event_version:
            problems.append(f"{event_type}.v{version} is published but the code writes v{cls.event_version}")
        elif version < cls.event_version and not registry.upcasts(event_type, version):
            problems.append(
                f"{event_type}.v{version} is published but cannot be read any more: "
                f"no upcaster path from v{version} to v{cls.event_version}"
            )
    return problems


# --- the comparison ---------------------------------------------------------------------------------------------


def breaking_changes(published: JsonDict, current: JsonDict) -> list[Breach]:
    """Every breaking difference from `published` to `current` (both JSON Schemas of one type and version)."""
    return list(_compare(expand(published), expand(current), ""))


def expand(schema: JsonDict) -> Any:
    """The schema with every local `$ref` inlined and the annotations (title, description, ...) dropped."""
    return _expand(schema, schema.get("$defs", {}), ())


def _expand(node: Any, defs: JsonDict, seen: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_expand(item, defs, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref.removeprefix("#/$defs/")
        if name in seen:
            return {"$ref": name}  # a recursive model: compared by name
        target = {**defs.get(name, {}), **{k: v for k, v in node.items() if k != "$ref"}}
        return _expand(target, defs, (*seen, name))
    return {
        key: _expand(value, defs, seen) if key not in ("default", "enum", "const") else value
        for key, value in node.items()
        if key not in ANNOTATIONS
    }


def _compare(old: Any, new: Any, path: str) -> Iterator[Breach]:
    if isinstance(old, dict) and isinstance(new, dict) and ("default" in old) != ("default" in new):
        # gaining or losing a default is a change of requiredness, named by the object's rules
        old, new = _without_default(old), _without_default(new)
    if old == new:
        return
    if not isinstance(old, dict) or not isinstance(new, dict):
        yield Breach(path, "schema-changed", f"changed from {old!r} to {new!r}")
        return
    if "properties" in old or "properties" in new:
        yield from _compare_objects(old, new, path)
        return
    breaches = list(_compare_values(old, new, path))
    yield from breaches or [Breach(path, "schema-changed", f"changed from {_show(old)} to {_show(new)}")]


def _compare_objects(old: JsonDict, new: JsonDict, path: str) -> Iterator[Breach]:
    before, after = old.get("properties", {}), new.get("properties", {})
    was_required, is_required = set(old.get("required", [])), set(new.get("required", []))
    added = [name for name in after if name not in before]
    for name in before:
        field = _join(path, name)
        if name not in after:
            twins = [other for other in added if after[other] == before[name]]
            if twins:
                yield Breach(field, "property-renamed", f"was renamed to '{twins[0]}'")
            else:
                yield Breach(field, "property-removed", "was removed")
            continue
        if name in is_required and name not in was_required:
            yield Breach(field, "newly-required", "is now required")
        if name in was_required and name not in is_required:
            yield Breach(field, "no-longer-required", "is no longer required")
        yield from _compare(before[name], after[name], field)
    for name in added:
        if name in is_required:
            yield Breach(_join(path, name), "required-property-added", "was added as a required property")
    if old.get("additionalProperties", True) != new.get("additionalProperties", True):
        yield Breach(path, "additional-properties-changed", "changed whether unknown properties are allowed")
    rest = ("properties", "required", "additionalProperties")
    old_rest = {k: v for k, v in old.items() if k not in rest}
    new_rest = {k: v for k, v in new.items() if k not in rest}
    if old_rest != new_rest:
        breaches = list(_compare_values(old_rest, new_rest, path))
        yield from breaches or [Breach(path, "schema-changed", f"changed from {_show(old_rest)} to {_show(new_rest)}")]


def _compare_values(old: JsonDict, new: JsonDict, path: str) -> Iterator[Breach]:
    old_types, new_types = _types(old), _types(new)
    if old_types != new_types:
        yield Breach(path, "type-changed", f"changed type from {_union(old_types)} to {_union(new_types)}")
        return
    yield from _compare_allowed(_allowed(old), _allowed(new), path)
    if old.get("format") != new.get("format"):
        yield Breach(path, "format-changed", f"changed format from {old.get('format')} to {new.get('format')}")
    if "default" in old and "default" in new and old["default"] != new["default"]:
        yield Breach(path, "default-changed", f"changed default from {old.get('default')!r} to {new.get('default')!r}")
    if "items" in old or "items" in new:
        yield from _compare(old.get("items"), new.get("items"), path + "[]")
    yield from _compare_alternatives(old, new, path)


def _compare_alternatives(old: JsonDict, new: JsonDict, path: str) -> Iterator[Breach]:
    """`a | b` unions: compare the members that take the same JSON types, one with the other."""
    old_members = {frozenset(_types(m)): m for m in old.get("anyOf") or old.get("oneOf") or []}
    new_members = {frozenset(_types(m)): m for m in new.get("anyOf") or new.get("oneOf") or []}
    for types, member in old_members.items():
        if types in new_members:
            yield from _compare(member, new_members[types], path)


def _without_default(schema: JsonDict) -> JsonDict:
    return {key: value for key, value in schema.items() if key != "default"}


def _types(schema: JsonDict) -> set[str]:
    members = schema.get("anyOf", schema.get("oneOf"))
    if members is not None:
        return set().union(*(_types(member) for member in members))
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return set(declared)
    values = _allowed(schema)
    if values is not None:
        return {_json_type(value) for value in values}
    return {"any"}


def _allowed(schema: JsonDict) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    enum = schema.get("enum")
    return list(enum) if isinstance(enum, list) else None


def _compare_allowed(old: list[Any] | None, new: list[Any] | None, path: str) -> Iterator[Breach]:
    """Enumerations (None: any value of the type)."""
    if old is None and new is not None:
        yield Breach(path, "enum-narrowed", f"now allows only {new}")
    elif old is not None and new is None:
        yield Breach(path, "enum-widened", "now allows any value, not only the listed ones")
    elif old is not None and new is not None:
        lost, gained = [v for v in old if v not in new], [v for v in new if v not in old]
        if lost:
            yield Breach(path, "enum-narrowed", f"no longer allows {lost}")
        if gained:
            yield Breach(path, "enum-widened", f"now allows {gained}, which readers of this version do not expect")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object" if isinstance(value, dict) else "any"


def _union(types: set[str]) -> str:
    return " | ".join(sorted(types))


def _show(schema: Any) -> str:
    return json.dumps(schema, sort_keys=True, ensure_ascii=False)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
