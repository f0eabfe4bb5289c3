"""User data from CSV and NPZ files: what loads, and a clear error for everything that does not."""

from __future__ import annotations

import numpy as np
import pytest

from mlpkit.datasets import DataFormatError, Split, load_csv, load_npz


def _csv(tmp_path, text, name="data.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# ---- CSV ----


def test_csv_numeric_labels(tmp_path):
    path = _csv(tmp_path, "x1,label,x2\n1,0,2.5\n3,2,4\n\n-1e-3,1,+7\n")
    data = load_csv(path, label_column="label")
    assert isinstance(data, Split) and data.classes is None
    X, y = data
    np.testing.assert_array_equal(X, np.array([[1, 2.5], [3, 4], [-1e-3, 7]], dtype=np.float32))
    assert X.dtype == np.float32 and y.dtype == np.int64
    assert y.tolist() == [0, 2, 1]


def test_csv_string_labels_map_to_sorted_classes(tmp_path):
    path = _csv(tmp_path, "a,b,species\n1,2,virginica\n3,4,setosa\n5,6,versicolor\n7,8,setosa\n")
    data = load_csv(path, label_column="species", dtype="float64")
    assert data.classes == ("setosa", "versicolor", "virginica")
    assert data.y.tolist() == [2, 0, 1, 0]
    assert data.X.dtype == np.float64
    assert [data.classes[k] for k in data.y] == ["virginica", "setosa", "versicolor", "setosa"]


def test_csv_whole_number_labels_written_as_floats(tmp_path):
    data = load_csv(_csv(tmp_path, "f,y\n0.5,1.0\n0.25,3.0\n"), label_column="y")
    assert data.y.tolist() == [1, 3] and data.classes is None


def test_csv_spaces_bom_quotes_and_delimiter(tmp_path):
    path = _csv(tmp_path, '\ufeff "f 1" ; label ;f2\n 1 ; cat ;"2"\n3;dog;4\n')
    data = load_csv(path, label_column="label", delimiter=";")
    np.testing.assert_array_equal(data.X, [[1, 2], [3, 4]])
    assert data.classes == ("cat", "dog")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a,b,label\n1,2,0\n3,abc,1\n", r"line 3, column 'b': 'abc' is not a number"),
        ("a,b,label\n1,2,0\n3,,1\n", r"line 3, column 'b': an empty cell \(missing value\)"),
        ("a,b,label\n1,nan,0\n", r"line 2, column 'b': 'nan' is not a finite number"),
        ("a,b,label\n1,2,0\n1,inf,0\n", r"line 3, column 'b': 'inf' is not a finite number"),
        ("a,b,label\n1,2,0\n3,4\n", r"line 3: 2 fields, but the header has 3 columns"),
        ("a,b,label\n1,2,0\n\n3,4,5,6\n", r"line 4: 4 fields, but the header has 3 columns"),
        ("a,b,target\n1,2,0\n", r"no label column 'label'; the header's columns are 'a', 'b', 'target'"),
        ("a,b,Label\n1,2,0\n", r"did you mean 'Label'\?"),
        ("1,2,0\n3,4,1\n", r"the first line looks like data"),
        ("", r"the file is empty"),
        ("a,b,label\n", r"no data rows after the header"),
        ("a,b,label\n\n\n", r"no data rows after the header"),
        ("label\n1\n", r"no feature columns"),
        ("label,a,label\n1,2,3\n", r"2 columns 'label'"),
        ("a,b,label\n1,2,\n", r"line 2: empty label"),
        ("a,b,label\n1,2,0.5\n", r"line 2, column 'label': label '0.5' is not a whole number"),
        ('a,b,label\n1,2,0\n3,"4,1\n', r"line 3: malformed CSV: unexpected end of data"),
    ],
    ids=[
        "non-numeric", "empty-cell", "nan", "inf", "short-row", "long-row", "missing-label", "case-hint",
        "no-header", "empty-file", "header-only", "blank-lines-only", "no-features", "duplicate-label",
        "empty-label", "fractional-label", "unterminated-quote",
    ],
)
def test_csv_errors_name_file_line_and_column(tmp_path, text, match):
    path = _csv(tmp_path, text)
    with pytest.raises(DataFormatError, match=match) as info:
        load_csv(path, label_column="label")
    assert str(path) in str(info.value)


def test_csv_error_message_survives_odd_paths_and_names(tmp_path):
    odd = tmp_path / "{braces} and %s"
    odd.mkdir()
    path = _csv(odd, "x,{y}\n1,2.5\n")
    with pytest.raises(DataFormatError, match=r"line 2, column '\{y\}': label '2\.5' is not a whole number"):
        load_csv(path, label_column="{y}")


def test_csv_wrong_encoding(tmp_path):
    path = _csv(tmp_path, "a,label\n\xe9,1\n", encoding="latin-1")
    with pytest.raises(DataFormatError, match=r"not utf-8-sig text.*encoding="):
        load_csv(path, label_column="label")


def test_csv_argument_errors(tmp_path):
    path = _csv(tmp_path, "a,label\n1,0\n")
    with pytest.raises(TypeError, match="label_column"):
        load_csv(path, label_column=1)
    with pytest.raises(TypeError, match="delimiter"):
        load_csv(path, label_column="label", delimiter=";;")
    with pytest.raises(TypeError, match="path"):
        load_csv(None, label_column="label")
    with pytest.raises(FileNotFoundError):
        load_csv(tmp_path / "absent.csv", label_column="label")


# ---- NPZ ----


def test_npz_basic_and_custom_keys(tmp_path):
    X = np.arange(12, dtype=np.int16).reshape(4, 3)
    np.savez(tmp_path / "d.npz", X=X, y=np.array([0, 1, 1, 2], dtype=np.uint8))
    data = load_npz(tmp_path / "d.npz")
    np.testing.assert_array_equal(data.X, X)
    assert data.X.dtype == np.float32 and data.y.dtype == np.int64 and data.classes is None
    np.savez(tmp_path / "e.npz", features=X, target=np.array([1.0, 0.0, 1.0, 1.0]))
    data = load_npz(tmp_path / "e.npz", x_key="features", y_key="target", dtype="float64")
    assert data.y.tolist() == [1, 0, 1, 1] and data.X.dtype == np.float64


def test_npz_images_are_flattened_and_string_labels_mapped(tmp_path):
    X = np.random.default_rng(0).random((5, 4, 4))
    np.savez_compressed(tmp_path / "img.npz", X=X, y=np.array(["b", "a", "c", "a", "b"]))
    data = load_npz(tmp_path / "img.npz")
    assert data.X.shape == (5, 16)
    np.testing.assert_allclose(data.X, X.reshape(5, 16).astype(np.float32))
    assert data.classes == ("a", "b", "c") and data.y.tolist() == [1, 0, 2, 0, 1]


def _npz(tmp_path, **arrays):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    ("arrays", "match"),
    [
        ({"X": np.ones((2, 2))}, r"no array 'y' in the archive; it holds 'X'"),
        ({"y": np.ones(2)}, r"no array 'X'"),
        ({"X": np.ones(3), "y": np.ones(3)}, r"'X' must have one example per row.*reshape\(-1, 1\)"),
        ({"X": np.ones((3, 2)), "y": np.ones((3, 1))}, r"'y' must be 1-D"),
        ({"X": np.ones((3, 2)), "y": np.ones(4)}, r"'X' has 3 examples but 'y' has 4 labels"),
        ({"X": np.ones((0, 2)), "y": np.ones(0)}, r"are empty"),
        ({"X": np.array([[1.0, np.nan]]), "y": np.ones(1)}, r"NaN or infinite values \(first in row 0\)"),
        ({"X": np.array([["a", "b"]]), "y": np.ones(1)}, r"'X' must be numeric, got dtype <U1"),
        ({"X": np.ones((2, 2)), "y": np.array([0.0, 0.5])}, r"y\[1\] = .*0\.5.* is not a whole number"),
        ({"X": np.ones((2, 2)), "y": np.array([1 + 1j, 0])}, r"integer labels or strings"),
    ],
    ids=["no-y", "no-X", "1-D-X", "2-D-y", "length", "empty", "nan", "strings-X", "fractional-y", "complex-y"],
)
def test_npz_errors(tmp_path, arrays, match):
    path = _npz(tmp_path, **arrays)
    with pytest.raises(DataFormatError, match=match) as info:
        load_npz(path)
    assert str(path) in str(info.value)


def test_npz_object_arrays_are_never_unpickled(tmp_path):
    path = _npz(tmp_path, X=np.ones((2, 2)), y=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(DataFormatError, match=r"array 'y'.*dtype object are not read"):
        load_npz(path)


@pytest.mark.parametrize(
    ("content", "match"),
    [(b"", "not a valid .npz"), (b"x,y\n1,2\n", "not a valid .npz"), (b"PK\x03\x04broken", "not a valid .npz")],
    ids=["empty", "text", "broken-zip"],
)
def test_npz_not_an_archive(tmp_path, content, match):
    path = tmp_path / "d.npz"
    path.write_bytes(content)
    with pytest.raises(DataFormatError, match=match):
        load_npz(path)


def test_npy_file_is_explained(tmp_path):
    np.save(tmp_path / "X.npy", np.ones((2, 2)))
    with pytest.raises(DataFormatError, match=r"\.npy file with a single array.*np\.savez"):
        load_npz(tmp_path / "X.npy")


def test_npz_argument_errors(tmp_path):
    with pytest.raises(TypeError, match="x_key"):
        load_npz(tmp_path / "d.npz", x_key=0)
    with pytest.raises(FileNotFoundError):
        load_npz(tmp_path / "absent.npz")
