"""A training run as data: its options, their checks, and the one builder that turns them into a run.

Nothing here parses a command line or prints: ``mlpkit train``, the dashboard of ``mlpkit serve``, the
trials of ``mlpkit tune`` and the experiment scripts all describe a run with these settings and build it
with :func:`build_run`::

    from mlpkit.settings import build_run, resolve

    settings = resolve({"dataset": "digits", "layers": "auto,30,auto", "optimizer": "adam", "epochs": 5})
    run = build_run(settings)              # data, network, optimizer, schedule, augmenter, early stopping
    history = run.fit()

- :mod:`.options`: the option table (names, flags, kinds, defaults, help) and :class:`TrainSettings`;
- :mod:`.files`: settings files (TOML/YAML/JSON) and the packaged presets;
- :mod:`.checks`: :func:`resolve`, which checks values once, through the library's own checks, and names
  the option in every error;
- :mod:`.data`: the data set a run names;
- :mod:`.build`: :func:`build_run` and the pieces it is made of.
"""

from .build import (
    TrainingRun,
    build_augmenter,
    build_optimizer,
    build_run,
    build_schedule,
    cost_spec,
    network_from_settings,
    output_activation,
    run_data,
)
from .checks import Labels, library_check, parse_class_weight, parse_layers, resolve, resolve_layers
from .data import BUILT_IN, Data, dataset_path, load_data, load_whole_file, remap_labels, table_data, target_columns
from .files import merge_preset, parse_document, read_preset, read_settings_file
from .options import (
    ALIASES,
    OPTION_BY_NAME,
    OPTIONS,
    Option,
    SettingsError,
    TrainSettings,
    convert_mapping,
    option_name,
)

__all__ = [
    "ALIASES",
    "BUILT_IN",
    "OPTIONS",
    "OPTION_BY_NAME",
    "Data",
    "Labels",
    "Option",
    "SettingsError",
    "TrainSettings",
    "TrainingRun",
    "build_augmenter",
    "build_optimizer",
    "build_run",
    "build_schedule",
    "convert_mapping",
    "cost_spec",
    "dataset_path",
    "library_check",
    "load_data",
    "load_whole_file",
    "merge_preset",
    "network_from_settings",
    "option_name",
    "output_activation",
    "parse_class_weight",
    "parse_document",
    "parse_layers",
    "read_preset",
    "read_settings_file",
    "remap_labels",
    "resolve",
    "resolve_layers",
    "run_data",
    "table_data",
    "target_columns",
]
