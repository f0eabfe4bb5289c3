"""Named ``mlpkit train`` settings shipped with the package: ``mlpkit train --preset NAME``.

Each preset is a TOML file in this folder, keyed by the option names of ``mlpkit train`` (the format of
``--config``). A ``--config`` file overrides a preset and command-line flags override both; see
:func:`mlpkit.settings.merge_preset` for what happens to a preset's optimizer or schedule parameters
when the optimizer or schedule is overridden. The measured results of each preset are in
``experiments/results/mnist_best.md`` of the source repository.

| preset        | what                                                                                  |
|---------------|---------------------------------------------------------------------------------------|
| mnist-98      | no augmentation: [784, 1024, 1024, 10] ReLU, dropout on inputs and hidden layers, Adam |
| mnist-99      | elastic distortions + small affine transforms, [784, 800, 800, 10] ReLU, Adam, 100    |
|               | epochs (within 30 minutes on one core of a lightly loaded machine)                    |
| mnist-99-fast | the same on a 50-epoch schedule (about 15 minutes)                                    |
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["names", "path"]

_FOLDER = Path(__file__).resolve().parent


def names() -> tuple[str, ...]:
    """The known preset names, sorted (the TOML files of this folder without the suffix)."""
    return tuple(sorted(p.stem for p in _FOLDER.glob("*.toml")))


def path(name: str) -> Path:
    """The TOML file of preset ``name``; ValueError listing the known presets when there is none."""
    known = names()
    if name not in known:
        raise ValueError(f"unknown preset {name!r}; known presets: {', '.join(known)}")
    return _FOLDER / f"{name}.toml"
