"""Tables of every task: a CSV or a DataFrame with one or several target columns, read for classification,
binary, multilabel or regression, with a weight column; and a one-line error naming the place of every bad
cell."""

from __future__ import annotations

import numpy as np
import pytest

from mlpkit.datasets import TARGET_TASKS, DataFormatError, Split, load_csv, load_dataframe


def _csv(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_loaders_read_the_libraries_tasks():
    tasks = pytest.importorskip("mlpkit.tasks")
    assert TARGET_TASKS == tuple(tasks.TASKS)


def test_regression_targets_are_a_float_matrix_with_their_names(tmp_path):
    path = _csv(tmp_path, "x1,price,x2,w\n1,10.5,2,1\n3,-2,4,0.5\n5,3e2,6,2\n")
    data = load_csv(path, label_column="price", task="regression", weight_column="w")
    assert isinstance(data, Split) and data.classes is None
    assert data.y.dtype == np.float64 and data.y.shape == (3, 1)
    np.testing.assert_array_equal(data.y[:, 0], [10.5, -2.0, 300.0])
    np.testing.assert_array_equal(data.X, [[1, 2], [3, 4], [5, 6]])
    assert data.feature_names == ("x1", "x2") and data.target_names == ("price",)
    np.testing.assert_array_equal(data.sample_weight, [1.0, 0.5, 2.0])
    two = load_csv(path, label_column=["price", "x2"], task="regression")
    assert two.y.shape == (3, 2) and two.target_names == ("price", "x2") and two.feature_names == ("x1", "w")
    np.testing.assert_array_equal(two.y[:, 1], [2, 4, 6])


def test_multilabel_binary_and_one_hot_classification(tmp_path):
    path = _csv(tmp_path, "f,a,b,c,g\n0.1,1,0,0,5\n0.2,0,1,1,6\n0.3,0,0,0,7\n")
    multi = load_csv(path, label_column=["a", "b", "c"], task="multilabel")
    assert multi.y.dtype == np.int64 and multi.y.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 0]]
    assert multi.target_names == ("a", "b", "c") and multi.feature_names == ("f", "g") and multi.classes is None
    binary = load_csv(_csv(tmp_path, "f,kind\n1,yes\n2,no\n3,yes\n", "b.csv"), label_column="kind", task="binary")
    assert binary.classes == ("no", "yes") and binary.y.tolist() == [1, 0, 1]
    numeric = load_csv(_csv(tmp_path, "f,t\n1,1\n2,0\n", "n.csv"), label_column="t", task="binary")
    assert numeric.classes is None and numeric.y.tolist() == [1, 0]
    one_hot = load_csv(_csv(tmp_path, "f,cat,dog\n1,0,1\n2,1,0\n3,0,1\n", "o.csv"), label_column=["cat", "dog"])
    assert one_hot.classes == ("cat", "dog") and one_hot.y.tolist() == [1, 0, 1]


def test_auto_reads_the_targets_as_written(tmp_path):
    whole = load_csv(_csv(tmp_path, "f,y\n1,2\n2,0\n", "a.csv"), label_column="y", task="auto")
    assert whole.y.dtype == np.int64 and whole.y.tolist() == [2, 0]
    values = load_csv(_csv(tmp_path, "f,y\n1,2\n2,0.5\n", "b.csv"), label_column="y", task="auto")
    assert values.y.dtype == np.float64 and values.y.tolist() == [[2.0], [0.5]]
    names = load_csv(_csv(tmp_path, "f,y\n1,b\n2,a\n", "c.csv"), label_column="y", task="auto")
    assert names.classes == ("a", "b") and names.y.tolist() == [1, 0]
    matrix = load_csv(_csv(tmp_path, "f,a,b\n1,0,1\n2,1,1\n", "d.csv"), label_column=["a", "b"], task="auto")
    assert matrix.y.dtype == np.int64 and matrix.y.tolist() == [[0, 1], [1, 1]]
    floats = load_csv(_csv(tmp_path, "f,a,b\n1,0,3\n2,1,1\n", "e.csv"), label_column=["a", "b"], task="auto")
    assert floats.y.dtype == np.float64


@pytest.mark.parametrize(
    ("text", "columns", "task", "match"),
    [
        ("a,b\n1,2\n", "y", "regression", r"no label column 'y'; the header's columns are 'a', 'b'"),
        ("a,y\n1,2\n3,\n", "y", "regression", r"line 3: empty label in column 'y' \(a missing value\)"),
        ("a,y\n1,2\n3,nan\n", "y", "regression", r"line 3, column 'y': label 'nan' is not a finite number"),
        ("a,y\n1,2\n3,big\n", "y", "regression", r"line 3, column 'y': 'big' is not a number; regression targets"),
        ("a,y\n1,0\n3,0.5\n", "y", "classification", r"line 3, column 'y': label '0\.5' is not a whole number.*"
                                                      r"regression"),
        ("a,y\n1,0\n3,2\n", "y", "binary", r"line 3, column 'y': '2' is not 0 or 1; binary targets"),
        ("a,y\n1,u\n3,v\n4,w\n", "y", "binary", r"a binary task needs two classes; column 'y' has 3: 'u', 'v', 'w'"),
        ("a,y,z\n1,0,1\n", ["y", "z"], "binary", r"a binary task takes one target column, got 2.*multilabel"),
        ("a,y,z\n1,0,1\n3,0,2\n", ["y", "z"], "multilabel", r"line 3, column 'z': '2' is not 0 or 1; multilabel"),
        ("a,y,z\n1,0,1\n3,1,1\n", ["y", "z"], "classification", r"line 3: the target columns 'y', 'z' must be "
                                                                r"one-hot \(exactly one 1 per row\).*got 1, 1"),
        ("a,y,z\n1,0,x\n", ["y", "z"], "auto", r"line 2, column 'z': 'x' is not a number; several target columns"),
        ("a,y\nx,1\n", "y", "regression", r"line 2, column 'a': 'x' is not a number; feature columns hold numbers"),
    ],
    ids=["missing-target", "empty-target", "nan-target", "name-for-regression", "float-for-classification",
         "binary-not-0-1", "binary-three-names", "binary-two-columns", "multilabel-not-0-1", "not-one-hot",
         "auto-names-in-matrix", "non-numeric-feature"],
)
def test_bad_tables_name_the_file_line_and_column(tmp_path, text, columns, task, match):
    path = _csv(tmp_path, text)
    with pytest.raises(DataFormatError, match=match) as info:
        load_csv(path, label_column=columns, task=task)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a,y,w\n1,2,1\n3,4,-1\n", r"line 3, column 'w': weight '-1' is negative"),
        ("a,y,w\n1,2,1\n3,4,\n", r"line 3: empty weight in column 'w'"),
        ("a,y,w\n1,2,1\n3,4\n", r"line 3: 2 fields, but the header has 3 columns"),
        ("a,y,w\n1,2,0\n3,4,0\n", r"every weight in column 'w' is 0"),
        ("a,y,w\n1,2,heavy\n", r"line 2, column 'w': 'heavy' is not a number; weights are non-negative numbers"),
        ("a,y\n1,2\n", r"no weight column 'w'"),
    ],
    ids=["negative", "empty", "short-row", "all-zero", "not-a-number", "missing"],
)
def test_bad_weight_columns(tmp_path, text, match):
    with pytest.raises(DataFormatError, match=match):
        load_csv(_csv(tmp_path, text), label_column="y", task="regression", weight_column="w")


def test_argument_errors(tmp_path):
    path = _csv(tmp_path, "a,y\n1,2\n")
    with pytest.raises(ValueError, match="task must be 'auto' or one of classification, binary"):
        load_csv(path, label_column="y", task="ranking")
    with pytest.raises(ValueError, match="weight_column 'y' is also a target column"):
        load_csv(path, label_column="y", weight_column="y")
    with pytest.raises(TypeError, match="label_column"):
        load_csv(path, label_column=[])
    with pytest.raises(ValueError, match="label_column names the column 'y' twice"):
        load_csv(path, label_column=["y", "y"])


# ---- DataFrame ----


def test_a_dataframe_reads_like_a_csv_file(tmp_path):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"x1": [1.0, 2.0, 3.0], "flag": [True, False, True], "price": [1.5, 2.5, 3.0],
                          "w": [1, 2, 3]})
    regression = load_dataframe(frame, label_column="price", task="regression", weight_column="w")
    assert regression.feature_names == ("x1", "flag") and regression.target_names == ("price",)
    np.testing.assert_array_equal(regression.X, [[1, 1], [2, 0], [3, 1]])
    np.testing.assert_array_equal(regression.y[:, 0], [1.5, 2.5, 3.0])
    np.testing.assert_array_equal(regression.sample_weight, [1, 2, 3])
    csv_path = tmp_path / "same.csv"
    frame.astype({"flag": int}).to_csv(csv_path, index=False)
    from_file = load_csv(csv_path, label_column="price", task="regression", weight_column="w")
    np.testing.assert_array_equal(from_file.X, regression.X)
    np.testing.assert_array_equal(from_file.y, regression.y)
    named = load_dataframe(pd.DataFrame({"x": [1, 2, 3], "kind": ["b", "a", "b"]}), label_column="kind")
    assert named.classes == ("a", "b") and named.y.tolist() == [1, 0, 1]


def test_dataframe_errors_name_the_row_and_column():
    pd = pytest.importorskip("pandas")
    with pytest.raises(DataFormatError, match=r"row 1, column 'x': 'u' is not a number; feature columns"):
        load_dataframe(pd.DataFrame({"x": ["1", "u"], "y": [0, 1]}), label_column="y")
    with pytest.raises(DataFormatError, match=r"row 1, column 'x': .*nan.* is not a finite number"):
        load_dataframe(pd.DataFrame({"x": [1.0, np.nan], "y": [0, 1]}), label_column="y")
    with pytest.raises(DataFormatError, match=r"row 2: empty label in column 'y' \(a missing value\)"):
        load_dataframe(pd.DataFrame({"x": [1.0, 2, 3], "y": [0.5, 1, np.nan]}), label_column="y", task="regression")
    with pytest.raises(DataFormatError, match=r"row 1: empty label in column 'y'"):
        load_dataframe(pd.DataFrame({"x": [1.0, 2], "y": ["a", None]}), label_column="y")
    with pytest.raises(DataFormatError, match=r"no label column 'z'; its columns are 'x', 'y'"):
        load_dataframe(pd.DataFrame({"x": [1.0], "y": [0]}), label_column="z")
    with pytest.raises(TypeError, match="frame must be a pandas DataFrame"):
        load_dataframe(np.ones((2, 2)), label_column="y")


def test_importing_mlpkit_does_not_import_pandas():
    import subprocess
    import sys

    code = "import sys, mlpkit, mlpkit.datasets; assert 'pandas' not in sys.modules, 'pandas imported'"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).returncode == 0
