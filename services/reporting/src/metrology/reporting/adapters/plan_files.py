"""Plan files: YAML read with its line marks, validated by the plan model; errors name the file and line."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from metrology.reporting.domain.plan import Plan

DEFAULT_PLAN = "ben-tre-2021.yaml"
Location = tuple[str | int, ...]


class PlanFileError(ValueError):
    """A plan file that cannot be used; the message names the file, the line and what is wrong."""


def load_plan_text(text: str, name: str) -> Plan:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        raise PlanFileError(f"{name}{line}: not valid YAML: {getattr(error, 'problem', error)}") from error
    if node is None:
        raise PlanFileError(f"{name} line 1: the file is empty")
    lines: dict[Location, int] = {}
    data = _to_python(node, (), lines)
    try:
        return Plan.model_validate(data)
    except ValidationError as error:
        raise PlanFileError(_describe(error, name, lines)) from error


def load_plan_file(path: Path) -> Plan:
    """A plan file; a bare name of a plan shipped with the service (`vinh-long.yaml`) loads the shipped one."""
    if not path.exists() and path.name == str(path) and path.name in shipped_plan_names():
        return load_shipped_plan(path.name)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PlanFileError(f"{path}: cannot be read: {error.strerror}") from error
    return load_plan_text(text, str(path))


def default_plan() -> Plan:
    return load_shipped_plan(DEFAULT_PLAN)


def shipped_plan_names() -> list[str]:
    plans = resources.files("metrology.reporting").joinpath("plans")
    return sorted(entry.name for entry in plans.iterdir() if entry.name.endswith(".yaml"))


def load_shipped_plan(name: str) -> Plan:
    text = resources.files("metrology.reporting").joinpath(f"plans/{name}").read_text(encoding="utf-8")
    return load_plan_text(text, name)


def load_plans(paths: Iterable[Path]) -> list[Plan]:
    """The given plan files, or the shipped Bến Tre plan when none is given; one plan per tenant."""
    plans = [load_plan_file(path) for path in paths] or [default_plan()]
    tenants = [plan.tenant for plan in plans]
    twice = sorted({t for t in tenants if tenants.count(t) > 1})
    if twice:
        raise PlanFileError(f"one plan per tenant: tenant {', '.join(twice)} has more than one plan")
    by_id = {plan.id: plan for plan in plans}
    for plan in plans:
        for former in plan.rolls_up:
            loaded = by_id.get(former.plan)
            if loaded is not None and loaded.tenant != former.tenant:
                raise PlanFileError(
                    f"plan {plan.id} rolls up {former.plan} as tenant {former.tenant}, but that plan is tenant "
                    f"{loaded.tenant}'s"
                )
    return plans


def _to_python(node: yaml.Node, location: Location, lines: dict[Location, int]) -> Any:
    lines[location] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result = {}
        for key_node, value_node in node.value:
            key = key_node.value
            lines[(*location, key)] = key_node.start_mark.line + 1
            result[key] = _to_python(value_node, (*location, key), lines)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, (*location, i), lines) for i, item in enumerate(node.value)]
    return yaml.constructor.SafeConstructor().construct_object(node, deep=True)


def _describe(error: ValidationError, name: str, lines: dict[Location, int]) -> str:
    problems = []
    for item in error.errors():
        location = tuple(item["loc"])
        where = ".".join(str(part) for part in location) or "(top)"
        problems.append(f"{name} line {_line_of(location, lines)}: {where}: {item['msg']}")
    return "; ".join(problems)


def _line_of(location: Location, lines: dict[Location, int]) -> int:
    while location and location not in lines:
        location = location[:-1]
    return lines.get(location, 1)
