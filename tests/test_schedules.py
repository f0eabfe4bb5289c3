"""Learning-rate schedules: values by hand from each formula, use in fit, Nielsen's halve-and-stop rule, their
state (state_dict / load_state_dict) and the registry by name."""

import copy

import numpy as np
import pytest

from mlpkit import (
    SGD,
    Constant,
    ExponentialDecay,
    HalveOnPlateau,
    History,
    InverseTimeDecay,
    Network,
    StepDecay,
    get_schedule,
)


def rates(schedule, epochs):
    return [schedule(e) for e in range(epochs)]


def test_constant():
    assert rates(Constant(initial_learning_rate=0.3), 3) == [0.3, 0.3, 0.3]


def test_inverse_time_decay_ngs_lecture_example():
    # Ng: alpha0 = 0.2, decay_rate = 1 -> epoch 1: 0.1, epoch 2: 0.067, epoch 3: 0.05, epoch 4: 0.04
    schedule = InverseTimeDecay(decay_rate=1.0, initial_learning_rate=0.2)
    np.testing.assert_allclose(rates(schedule, 5), [0.2, 0.1, 0.2 / 3, 0.05, 0.04], rtol=1e-15)


def test_inverse_time_decay_continuous_and_staircase():
    # alpha0 / (1 + 0.5 * e / 2) vs alpha0 / (1 + 0.5 * floor(e / 2))
    smooth = InverseTimeDecay(decay_rate=0.5, decay_epochs=2, initial_learning_rate=1.0)
    stairs = InverseTimeDecay(decay_rate=0.5, decay_epochs=2, staircase=True, initial_learning_rate=1.0)
    np.testing.assert_allclose(rates(smooth, 3), [1.0, 1 / 1.25, 1 / 1.5], rtol=1e-15)
    np.testing.assert_allclose(rates(stairs, 5), [1.0, 1.0, 1 / 1.5, 1 / 1.5, 0.5], rtol=1e-15)


def test_exponential_decay_095():
    # Ng: 0.95^epoch * alpha0
    schedule = ExponentialDecay(0.95, initial_learning_rate=0.2)
    np.testing.assert_allclose(rates(schedule, 3), [0.2, 0.19, 0.1805], rtol=1e-15)
    stairs = ExponentialDecay(0.5, decay_epochs=2, staircase=True, initial_learning_rate=1.0)
    assert rates(stairs, 5) == [1.0, 1.0, 0.5, 0.5, 0.25]


def test_step_decay():
    assert rates(StepDecay(step_size=2, factor=0.1, initial_learning_rate=1.0), 5) == pytest.approx(
        [1.0, 1.0, 0.1, 0.1, 0.01], rel=1e-15)


def _history(values, monitor="val_accuracy"):
    history = History()
    for epoch, value in enumerate(values):
        history.append(epoch, {monitor: value})
    return history


def test_halve_on_plateau_by_hand():
    # patience 2: epochs 0..2 improve, 3 and 4 do not -> halve for epoch 5; 5 improves; 6, 7 do not -> halve
    accuracy = [0.5, 0.6, 0.7, 0.7, 0.65, 0.8, 0.8, 0.79, 0.9]
    schedule = HalveOnPlateau(patience=2, initial_learning_rate=1.0)
    got = [schedule(e, _history(accuracy[:e])) for e in range(len(accuracy) + 1)]
    assert got == [1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]


def test_halve_on_plateau_stops_at_eta0_over_128():
    schedule = HalveOnPlateau(patience=1, initial_learning_rate=1.0)
    flat = [0.5] * 20
    got = [schedule(e, _history(flat[:e])) for e in range(10)]
    # epoch 0, 1 at eta0; then one halving per non-improving epoch; 1/128 is reached at epoch 8: stop
    assert got[:8] == [1.0, 1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625]
    assert got[8] is None


def test_halve_on_plateau_ends_fit_and_records_the_rates():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 2, 40)
    net = Network([3, 4, 2], seed=0)
    # the training loss only falls, so in "max" mode it never improves after epoch 0: halve every epoch
    schedule = HalveOnPlateau(patience=1, monitor="loss", mode="max")
    history = net.fit(X, y, epochs=50, optimizer=SGD(0.08), schedule=schedule, verbose=0)
    assert history.stop_reason == "stopped by the learning-rate schedule"
    np.testing.assert_allclose(history["learning_rate"], [0.08, 0.08] + [0.08 / 2 ** k for k in range(1, 7)],
                               rtol=1e-15)


def test_halve_on_plateau_names_the_missing_metric():
    rng = np.random.default_rng(0)
    net = Network([3, 2], seed=0)
    with pytest.raises(ValueError, match=r"monitors 'val_accuracy'.*pass validation_data"):
        net.fit(rng.normal(size=(10, 3)), np.arange(10) % 2, epochs=3, schedule=HalveOnPlateau(), verbose=0)


def test_fit_applies_a_schedule_each_epoch_from_the_optimizer_rate():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 3)), rng.integers(0, 2, 30)
    net = Network([3, 4, 2], seed=0)
    history = net.fit(X, y, epochs=4, optimizer="sgd", learning_rate=0.4, schedule=InverseTimeDecay(1.0), verbose=0)
    np.testing.assert_allclose(history["learning_rate"], [0.4, 0.2, 0.4 / 3, 0.1], rtol=1e-15)


def test_a_plain_function_is_a_schedule_and_none_stops():
    rng = np.random.default_rng(0)
    net = Network([3, 2], seed=0)
    seen = []

    def schedule(epoch, history):
        seen.append(len(history))
        return None if epoch == 3 else 0.1 * (epoch + 1)

    history = net.fit(rng.normal(size=(10, 3)), np.arange(10) % 2, epochs=10, schedule=schedule, verbose=0)
    assert seen == [0, 1, 2, 3]
    assert history["learning_rate"] == pytest.approx([0.1, 0.2, 0.3])
    assert history.stop_reason == "stopped by the learning-rate schedule"


def test_start_resets_state_between_runs():
    schedule = HalveOnPlateau(patience=1)
    schedule.start(2.0)
    assert schedule(0, History()) == 2.0
    assert schedule(3, _history([0.5, 0.5, 0.5])) == 0.5  # epochs 1 and 2 did not improve: halved twice
    schedule.start(0.5)
    assert schedule(0, History()) == 0.5


def test_given_initial_rate_wins_over_the_optimizer():
    schedule = ExponentialDecay(0.5, initial_learning_rate=0.2)
    schedule.start(99.0)
    assert schedule(1) == 0.1


@pytest.mark.parametrize(("make", "error", "match"), [
    (lambda: ExponentialDecay(1.5), ValueError, "decay_rate must be in"),
    (lambda: ExponentialDecay(0.0), ValueError, "decay_rate must be"),
    (lambda: InverseTimeDecay(-1.0), ValueError, "decay_rate must be"),
    (lambda: StepDecay(0), ValueError, "step_size must be"),
    (lambda: StepDecay(2, factor=2.0), ValueError, "factor must be in"),
    (lambda: HalveOnPlateau(factor=1.0), ValueError, r"factor must be in \(0, 1\)"),
    (lambda: HalveOnPlateau(patience=0), ValueError, "patience must be"),
    (lambda: HalveOnPlateau(mode="up"), ValueError, "mode must be"),
    (lambda: Constant(initial_learning_rate=0), ValueError, "initial_learning_rate must be"),
    (lambda: Constant()(0), ValueError, "no initial learning rate"),
    (lambda: Constant(initial_learning_rate=0.1)(-1), ValueError, "epoch must be"),
])
def test_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_fit_refuses_a_non_callable_schedule_and_a_bad_rate():
    net = Network([3, 2], seed=0)
    X, y = np.zeros((4, 3)), np.arange(4) % 2
    with pytest.raises(TypeError, match="schedule must be"):
        net.fit(X, y, epochs=1, schedule=0.1, verbose=0)
    with pytest.raises(ValueError, match="learning rate from the schedule"):
        net.fit(X, y, epochs=1, schedule=lambda e, h: -1.0, verbose=0)


def test_config_and_repr():
    schedule = HalveOnPlateau(patience=3, monitor="val_loss")
    assert schedule.get_config()["mode"] == "min"
    assert "patience=3" in repr(schedule)


# ---------------------------------------------------------------------------- state and registry
def test_a_schedule_continued_from_its_state_gives_the_rates_of_the_straight_run():
    accuracies = [0.5, 0.6, 0.6, 0.6, 0.6, 0.7, 0.7, 0.7, 0.7, 0.7]
    straight = HalveOnPlateau(patience=2)
    straight.start(1.0)
    rates = [straight(e, _history(accuracies[:e])) for e in range(len(accuracies))]
    assert rates == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25]

    first = HalveOnPlateau(patience=2)
    first.start(1.0)
    for e in range(5):
        first(e, _history(accuracies[:e]))
    state = copy.deepcopy(first.state_dict())
    assert state == {"name": "halve_on_plateau", "eta0": 1.0, "learning_rate": 0.5, "best": 0.6, "wait": 0, "seen": 4}
    second = HalveOnPlateau(patience=2)
    second.start(1.0)
    second.load_state_dict(state)
    assert [second(e, _history(accuracies[:e])) for e in range(5, 10)] == rates[5:]


@pytest.mark.parametrize("schedule", [Constant(), InverseTimeDecay(0.5), ExponentialDecay(0.9), StepDecay(3)])
def test_stateless_schedules_keep_their_starting_rate(schedule):
    schedule.start(0.2)
    twin = get_schedule(schedule.get_config())
    twin.load_state_dict(schedule.state_dict())
    assert [twin(e) for e in range(8)] == [schedule(e) for e in range(8)]
    assert twin.eta0 == 0.2


def test_schedule_states_are_checked():
    with pytest.raises(ValueError, match="belongs to a 'exponential' schedule, not 'step'"):
        StepDecay(2).load_state_dict({"name": "exponential", "eta0": 0.1})
    with pytest.raises(ValueError, match="seen"):
        HalveOnPlateau().load_state_dict({"name": "halve_on_plateau", "eta0": 1.0, "learning_rate": 1.0,
                                          "best": None, "wait": 0, "seen": -1})
    with pytest.raises(ValueError, match="eta0"):
        Constant().load_state_dict({"name": "constant", "eta0": -1})


def test_schedules_are_built_by_name_and_hyphens_read_as_underscores():
    assert isinstance(get_schedule("inverse-time"), InverseTimeDecay)
    built = get_schedule({"name": "halve_on_plateau", "patience": 3, "monitor": "val_loss"})
    assert built.patience == 3 and built.tracker.monitor == "val_loss"
    with pytest.raises(ValueError, match="unknown schedule 'cosine'; expected one of constant, inverse_time"):
        get_schedule("cosine")
    with pytest.raises(ValueError, match="bad parameters for schedule 'step'"):
        get_schedule({"name": "step", "step_size": 2, "rate": 3})
