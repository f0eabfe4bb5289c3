"""Decision boundaries: the right image size, the class colours on the right sides of a known boundary, one
predict call for the grid, K classes, and the animated GIF collected during training."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("PIL")

from matplotlib import colormaps
from PIL import Image

from mlpkit import Network
from mlpkit.datasets import load_planar
from mlpkit.plotting import BoundaryRecorder, decision_boundary


@pytest.fixture(scope="module")
def split_at_zero():
    """A net trained on points split by the line x = 0 (class 1 on the right), and the points."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (400, 2))
    X[:, 0] += np.sign(X[:, 0]) * 0.1  # a gap around the line
    y = (X[:, 0] > 0).astype(np.int64)
    net = Network([2, 2], output_activation="softmax", seed=0)
    net.fit(X, y, epochs=30, batch_size=20, optimizer="adam", learning_rate=0.05, verbose=0, seed=0)
    assert net.evaluate(X, y)["accuracy"] == 1.0
    return net, X, y


class CountingNet:
    """Wraps a network and records the number of rows of each predict_proba call."""

    def __init__(self, net):
        self.net, self.calls = net, []

    def predict_proba(self, X):
        self.calls.append(len(X))
        return self.net.predict_proba(X)


def _pixel(figure, image, x, y):
    """The RGB colour (0..1) of the image at data point (x, y) of the figure's first axes."""
    px, py = figure.axes[0].transData.transform((x, y))
    return image[image.shape[0] - round(py), round(px), :3] / 255


def test_the_colours_change_across_a_known_boundary(split_at_zero):
    net, X, y = split_at_zero
    figure = decision_boundary(net, X, y, figsize=(4, 3), resolution=100)
    figure.canvas.draw()
    image = np.asarray(figure.canvas.buffer_rgba())
    assert image.shape[:2] == (300, 400)  # figsize x dpi (100)
    pale = 0.45 * np.asarray(colormaps["tab10"].colors)[:2] + 0.55
    for x in (-0.9, -0.5):  # below the points, inside the margin: the background alone
        assert np.abs(_pixel(figure, image, x, -1.15) - pale[0]).max() < 0.03
    for x in (0.5, 0.9):
        assert np.abs(_pixel(figure, image, x, -1.15) - pale[1]).max() < 0.03


def test_png_size_is_figsize_times_dpi_and_the_title_has_the_accuracies(split_at_zero, tmp_path):
    net, X, y = split_at_zero
    path = decision_boundary(net, X[:300], y[:300], X_test=X[300:], y_test=y[300:], figsize=(5, 3), dpi=60,
                             title="split", path=tmp_path / "b.png")
    assert path == tmp_path / "b.png" and not list(tmp_path.glob(".*"))  # written atomically
    with Image.open(path) as image:
        assert image.size == (300, 180)
    figure = decision_boundary(net, X[:300], y[:300], X_test=X[300:], y_test=y[300:], title="split")
    assert figure.axes[0].get_title() == "split\ntrain accuracy 100.0%, test 100.0%"


def test_one_predict_call_covers_the_whole_grid(split_at_zero):
    net, X, y = split_at_zero
    counting = CountingNet(net)
    decision_boundary(counting, X, y, resolution=50, probability=True)
    assert counting.calls.count(2500) == 1 and sorted(counting.calls) == [400, 2500]


def test_k_classes_probability_and_a_single_sigmoid_output():
    data = load_planar("gaussian", n_samples=150, n_classes=3)
    net = Network([2, 8, 3], activation="tanh", seed=0)
    for probability in (False, True):
        figure = decision_boundary(net, data.train.X, data.train.y, X_test=data.test.X, y_test=data.test.y,
                                   probability=probability, resolution=40, class_names=["a", "b", "c"])
        labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
        assert labels == ["a", "b", "c", "train", "test"]
    binary = Network([2, 4, 1], activation="tanh", output_activation="sigmoid", seed=0)
    moons = load_planar("moons", n_samples=100)
    figure = decision_boundary(binary, moons.train.X, moons.train.y, probability=True, resolution=30)
    assert len(figure.axes) == 2  # the plot and the colour bar of P(class 1)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"X": np.zeros((4, 3)), "y": np.zeros(4, dtype=int)}, "X must have shape (n, 2)"),
    ({"X_test": np.zeros((4, 2))}, "give both X_test and y_test"),
    ({"resolution": 1}, "resolution must be an integer in [2, 2000]"),
    ({"y": np.array([0, 1, -1, 0])}, "labels of X must be class numbers"),
])
def test_bad_arguments(split_at_zero, kwargs, message):
    net, _, _ = split_at_zero
    arguments = {"X": np.zeros((4, 2)), "y": np.array([0, 1, 1, 0]), **kwargs}
    with pytest.raises(ValueError) as info:
        decision_boundary(net, arguments.pop("X"), arguments.pop("y"), **arguments)
    assert message in str(info.value)


def test_the_recorder_writes_a_gif_of_evenly_spaced_epochs(tmp_path):
    data = load_planar("flower", n_samples=200)
    net = Network([2, 4, 2], activation="tanh", seed=0)
    recorder = BoundaryRecorder(data.train.X, data.train.y, X_test=data.test.X, y_test=data.test.y, frames=4,
                                resolution=40, title="flower")
    net.fit(data.train.X, data.train.y, epochs=6, verbose=0, seed=0, callbacks=[recorder])
    assert [s.epoch for s in recorder.snapshots] == [0, 2, 4, 6]
    path = recorder.save_gif(tmp_path / "b.gif", figsize=(3, 2), dpi=50)
    with Image.open(path) as gif:
        assert gif.n_frames == 4 and gif.size == (150, 100)
    with pytest.raises(ValueError, match="frames must be an integer >= 2"):
        BoundaryRecorder(data.train.X, data.train.y, frames=1)
