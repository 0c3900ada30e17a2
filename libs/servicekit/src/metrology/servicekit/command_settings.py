"""A command's settings from the environment: a setting that does not fit, or an insecure production setting,
stops the command with one line naming it (exit status 2), not a traceback. The value itself is never echoed,
since it may be a secret. So does a database schema this release cannot bring up to date."""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn, TypeVar

import typer
from pydantic import ValidationError

from metrology.eventkit.database import DatabaseRefusedError, DatabaseUnavailableError
from metrology.servicekit.schema_migrations import UnknownRevisionError
from metrology.servicekit.settings import InsecureSettingsError, ServiceSettings, invalid_settings

if TYPE_CHECKING:
    from metrology.servicekit.runtime import ServiceRuntime

Settings = TypeVar("Settings", bound=ServiceSettings)


def refuse(name: str, message: str) -> NoReturn:
    """One line on standard error, `metrology-<name>: <message>`, and exit status 2: what an operator's command
    says instead of a traceback."""
    typer.echo(f"metrology-{name}: {message}", err=True)
    raise typer.Exit(2)


def settings_from_env(settings_type: type[Settings], name: str) -> Settings:
    """The service's settings from the environment, or exit 2 with one line naming what does not fit."""
    try:
        return settings_type.from_env(name)
    except ValidationError as error:
        refuse(name, f"invalid settings: {invalid_settings(error)}")


def production_ready_settings(settings_type: type[Settings], name: str) -> Settings:
    """`settings_from_env`, refused (exit 2, one line) when they are not fit for production."""
    settings = settings_from_env(settings_type, name)
    try:
        settings.ensure_production_ready()
    except InsecureSettingsError as error:
        refuse(name, f"refusing to start: {error}")
    return settings


async def migrate_or_exit(runtime: ServiceRuntime) -> None:
    """Bring the service's schema up to date, or exit 2 with one line when this release cannot."""
    try:
        await runtime.migrate()
    except (UnknownRevisionError, DatabaseUnavailableError, DatabaseRefusedError) as error:
        refuse(runtime.name, str(error))
