"""The table ``mlpkit predict`` writes: the predictions of each task in columns, and for a CSV INPUT with a header
the input's own rows beside them.

A model trained on a CSV file knows its target columns (``network.target_names``). Given a CSV of new rows with a
header that lacks those columns, ``predict`` writes the file back with the predictions added under the target
columns' names: a table shaped like the training file. Otherwise (an NPZ/NPY input, a model without target names,
or an input that already holds the targets) it writes the predictions alone: one ``prediction`` column for a
classifier, one column per target (or ``label_j`` / ``output_j``) for multilabel and regression networks.

Predictions are class names (or numbers) for classification and binary networks, 0/1 per label for multilabel
ones, values in the target units for regression; ``--proba`` adds ``p_<class>`` / ``p_<label>`` columns.
"""

from __future__ import annotations

import csv
import io

import numpy as np

from ..network import Network
from ..settings import SettingsError
from ..tasks import CLASS_TASKS
from ._inputs import Inputs


def _number(value: float, digits: int) -> str:
    return f"{float(value):.{digits}g}"


def prediction_columns(network: Network, X: np.ndarray, class_names: list[str], *, proba: bool,
                       target_names: list[str] | None) -> tuple[list[str], list[list[str]]]:
    """(column names, one row of cells per example) of the predictions of ``network`` for ``X``; the
    prediction columns are named ``target_names`` when given."""
    task = network.task
    digits = 17 if network.dtype == np.float64 else 9  # enough to read the value back exactly
    if task == "regression":
        if proba:
            raise SettingsError("--proba: a regression network has no probabilities; its predictions are the values")
        values = network.predict(X).reshape(len(X), -1)
        names = target_names or [f"output_{j}" for j in range(values.shape[1])]
        return names, [[_number(v, digits) for v in row] for row in values]
    predicted = network.predict(X)
    outputs = network.predict_proba(X) if proba else None
    if task in CLASS_TASKS:
        names = [target_names[0] if target_names else "prediction"]
        cells = [[class_names[k]] for k in predicted]
        if outputs is not None:
            names += [f"p_{n}" for n in class_names]
            probabilities = np.column_stack([1 - outputs[:, 0], outputs[:, 0]]) if outputs.shape[1] == 1 else outputs
            cells = [row + [f"{p:.6g}" for p in ps] for row, ps in zip(cells, probabilities, strict=True)]
        return names, cells
    labels = target_names or [f"label_{j}" for j in range(predicted.shape[1])]
    cells = [[str(int(v)) for v in row] for row in predicted]
    if outputs is not None:
        cells = [row + [f"{p:.6g}" for p in ps] for row, ps in zip(cells, outputs, strict=True)]
        return labels + [f"p_{label}" for label in labels], cells
    return list(labels), cells


def prediction_csv(network: Network, inputs: Inputs, class_names: list[str], *, proba: bool) -> str:
    """The CSV text ``predict`` writes for ``inputs`` (see the module's docstring)."""
    targets = network.target_names
    write_back = inputs.header is not None and bool(targets) and not set(targets) & set(inputs.header)
    names, cells = prediction_columns(network, inputs.X, class_names, proba=proba,
                                      target_names=targets if write_back or network.task not in CLASS_TASKS else None)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if write_back:
        writer.writerow(inputs.header + names)
        writer.writerows(row + cell for row, cell in zip(inputs.rows, cells, strict=True))
    else:
        writer.writerow(names)
        writer.writerows(cells)
    return buffer.getvalue()
