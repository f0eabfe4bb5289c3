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

#: the largest settings file read (a flat table of options takes a few hundred bytes)
MAX_SETTINGS_BYTES = 1024 * 1024
#: the values a YAML file may expand to, aliases counted each time they are used (a 370-byte "billion
#: laughs" file of nested aliases expands to 10^9 values and is refused at this count, unexpanded)
MAX_YAML_NODES = 10_000
#: the longest message of a parser quoted in an error line
_MAX_QUOTE = 300


def _quote(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= _MAX_QUOTE else text[:_MAX_QUOTE] + "..."


def _load_yaml(text: str, path: Path) -> Any:
    """``yaml.safe_load`` with the document's nodes counted (aliases expanded, without building anything)
    before it is constructed, refused beyond :data:`MAX_YAML_NODES`."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        stack, count = [node], 0
        while stack:
            count += 1
            if count > MAX_YAML_NODES:
                raise SettingsError(f"{path.name} expands to more than {MAX_YAML_NODES:,} values (nested aliases?); "
                                    "a settings file is a flat table of options")
            current = stack.pop()
            if isinstance(current, yaml.SequenceNode):
                stack.extend(current.value)
            elif isinstance(current, yaml.MappingNode):
                stack.extend(item for pair in current.value for item in pair)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def parse_document(path: str | Path, what: str) -> Any:
    """The parsed content of a TOML (.toml), YAML (.yaml/.yml) or JSON (.json) file; ``what`` names the file
    in the one-line errors (e.g. "--config file"). A file of more than :data:`MAX_SETTINGS_BYTES`, a YAML
    document expanding to more than :data:`MAX_YAML_NODES` values, and deep nesting are refused, so that a
    crafted file costs neither memory nor a megabyte-long error line."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml", ".json"):
        raise SettingsError(f"{what} must end in .toml, .yaml, .yml or .json, got {path.name}")
    try:
        if path.stat().st_size > MAX_SETTINGS_BYTES:
            raise SettingsError(f"{what} {path} holds {path.stat().st_size:,} bytes, more than the "
                                f"{MAX_SETTINGS_BYTES:,} of a settings file")
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
        return _load_yaml(text, path)
    except SettingsError:
        raise
    except RecursionError:
        raise SettingsError(f"{path.name} is nested too deeply; a settings file is a flat table of options") from None
    except Exception as exc:  # each parser has its own error class; all mean "not valid syntax"
        kind = {".toml": "TOML", ".json": "JSON"}.get(suffix, "YAML")
        raise SettingsError(f"{path.name} is not valid {kind}: {_quote(exc)}") from None


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
