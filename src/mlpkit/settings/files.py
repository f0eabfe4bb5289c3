"""Settings files (TOML, YAML or JSON, flat ``key = value`` with the option names) and the packaged presets.

Values come from three places, later ones winning: a preset, a settings file, and the caller's own values
(the command line, a request). :func:`merge_preset` combines them; :func:`~mlpkit.settings.checks.resolve`
checks the result once.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from .options import OPTIMIZER_OPTIONS, SCHEDULE_OPTIONS, SettingsError, convert_mapping


def parse_document(path: str | Path, what: str) -> Any:
    """The parsed content of a TOML (.toml), YAML (.yaml/.yml) or JSON (.json) file; ``what`` names the file
    in the one-line errors (e.g. "--config file")."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml", ".json"):
        raise SettingsError(f"{what} must end in .toml, .yaml, .yml or .json, got {path.name}")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SettingsError(f"{what} {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read {what} {path}: {exc}") from None
    try:
        if suffix == ".toml":
            return tomllib.loads(text)
        if suffix == ".json":
            return json.loads(text)
        import yaml

        return yaml.safe_load(text)
    except Exception as exc:  # each parser has its own error class; all mean "not valid syntax"
        kind = {".toml": "TOML", ".json": "JSON"}.get(suffix, "YAML")
        raise SettingsError(f"{path.name} is not valid {kind}: {' '.join(str(exc).split())}") from None


def read_settings_file(path: str | Path, what: str = "--config file") -> dict[str, Any]:
    """The option values of a TOML (.toml), YAML (.yaml/.yml) or JSON (.json) file, converted and checked
    key by key (unknown keys are an error naming the key and listing the allowed ones)."""
    path = Path(path)
    raw = parse_document(path, what)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise SettingsError(f"{path.name} must hold key = value settings at its top level, got a "
                            f"{type(raw).__name__}")
    return convert_mapping(raw, where=path.name)


def read_preset(name: str) -> dict[str, Any]:
    """The option values of the packaged preset ``name`` (:mod:`mlpkit.presets`); an unknown name is an
    error listing the known ones."""
    from .. import presets

    try:
        path = presets.path(name)
    except ValueError as exc:
        raise SettingsError(f"--preset: {exc}") from None
    return read_settings_file(path)


def merge_preset(preset: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """A preset's values with ``overrides`` (a settings file, then flags) on top.

    When the overrides change the optimizer or the schedule, the preset's parameters that belong only to
    the replaced one (e.g. ``decay_rate`` of an exponential schedule overridden by ``--schedule step``) are
    dropped, so that overriding one choice does not turn the rest of the preset into an error.
    """
    kept = dict(preset)
    for choice, options in (("optimizer", OPTIMIZER_OPTIONS), ("schedule", SCHEDULE_OPTIONS)):
        new = overrides.get(choice)
        if new is None or new == preset.get(choice):
            continue
        new_name = str(new).strip().lower().replace("-", "_")
        for option in options:
            if option.name in kept and new_name not in option.users:
                del kept[option.name]
    return {**kept, **{k: v for k, v in overrides.items() if v is not None}}
