"""Optimizers: three steps against the formulas by hand, torch.optim in float64, state, config, errors."""

import math

import numpy as np
import pytest

from mlpkit import SGD, Adam, AdamW, Dense, Momentum, Nesterov, Network, RMSprop, get_optimizer, training
from mlpkit.optimizers import DEFAULT_LEARNING_RATES, OPTIMIZER_NAMES

W0 = [1.0, -2.0, 0.5]
GRADS = [[0.5, -1.0, 0.0], [0.2, 0.4, -3.0], [-0.3, 0.1, 2.0]]


def run(optimizer, w0=W0, grads=GRADS):
    """Apply the optimizer to a float64 vector with a fixed gradient sequence; return every iterate."""
    w = np.array(w0, dtype=np.float64)
    trajectory = []
    for g in grads:
        optimizer.step(w, np.array(g, dtype=np.float64))
        trajectory.append(w.copy())
    return trajectory


def by_hand(update, state, w0=W0, grads=GRADS):
    """Scalar reference: ``update(w, g, state, t) -> w`` applied entry by entry, in plain Python floats."""
    trajectory = []
    w = list(w0)
    states = [dict(state) for _ in w0]
    for t, g in enumerate(grads, start=1):
        w = [update(wi, gi, si, t) for wi, gi, si in zip(w, g, states, strict=True)]
        trajectory.append(np.array(w))
    return trajectory


# ----------------------------------------------------------------------------- 3 steps by hand
def test_sgd_three_steps_by_hand():
    out = run(SGD(0.1))
    # w1 = w0 - 0.1 g1, ...
    np.testing.assert_allclose(out[0], [0.95, -1.9, 0.5], rtol=0, atol=1e-15)
    np.testing.assert_allclose(out[2], [0.95 - 0.02 + 0.03, -1.9 - 0.04 - 0.01, 0.5 + 0.3 - 0.2], atol=1e-15)


def test_momentum_ng_three_steps_literal():
    # Ng: v = 0.9 v + 0.1 g; w -= 0.1 v.  First entry, g = 0.5, 0.2, -0.3:
    # v1 = 0.05, w1 = 0.995; v2 = 0.045 + 0.02 = 0.065, w2 = 0.9885; v3 = 0.0585 - 0.03 = 0.0285, w3 = 0.98565
    out = run(Momentum(0.1, beta=0.9))
    np.testing.assert_allclose([o[0] for o in out], [0.995, 0.9885, 0.98565], atol=1e-15)


def test_momentum_ng_matches_formula():
    def update(w, g, s, t):
        s["v"] = 0.8 * s.get("v", 0.0) + 0.2 * g
        return w - 0.3 * s["v"]

    np.testing.assert_allclose(run(Momentum(0.3, beta=0.8)), by_hand(update, {}), atol=1e-15)


def test_momentum_classical_is_nielsens_rule():
    # Nielsen eq. (107)-(108): v -> mu v - eta grad, w -> w + v.  First entry: v1 = -0.05, w1 = 0.95;
    # v2 = -0.045 - 0.02 = -0.065, w2 = 0.885; v3 = -0.0585 + 0.03 = -0.0285, w3 = 0.8565
    out = run(Momentum(0.1, beta=0.9, convention="classical"))
    np.testing.assert_allclose([o[0] for o in out], [0.95, 0.885, 0.8565], atol=1e-15)


def test_ng_momentum_is_classical_with_a_scaled_learning_rate():
    ng = run(Momentum(0.5, beta=0.9, convention="ng"))
    classical = run(Momentum(0.5 * (1 - 0.9), beta=0.9, convention="classical"))
    np.testing.assert_allclose(ng, classical, atol=1e-14)


def test_nesterov_matches_formula():
    def update(w, g, s, t):
        s["v"] = 0.9 * s.get("v", 0.0) - 0.1 * g
        return w + 0.9 * s["v"] - 0.1 * g

    np.testing.assert_allclose(run(Nesterov(0.1, beta=0.9)), by_hand(update, {}), atol=1e-15)


def test_rmsprop_matches_formula():
    def update(w, g, s, t):
        s["s"] = 0.9 * s.get("s", 0.0) + 0.1 * g * g
        return w - 0.01 * g / (math.sqrt(s["s"]) + 1e-8)

    np.testing.assert_allclose(run(RMSprop(0.01, beta2=0.9)), by_hand(update, {}), atol=1e-14)
    # first step: s = 0.1 g^2, so the step is 0.01 g / (sqrt(0.1) |g|) = 0.01 / sqrt(0.1) in magnitude
    assert run(RMSprop(0.01, beta2=0.9))[0][0] == pytest.approx(1.0 - 0.01 / math.sqrt(0.1), abs=1e-8)  # eps


def test_adam_matches_ngs_formulas():
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 0.01

    def update(w, g, s, t):
        s["v"] = b1 * s.get("v", 0.0) + (1 - b1) * g
        s["s"] = b2 * s.get("s", 0.0) + (1 - b2) * g * g
        v_corr = s["v"] / (1 - b1 ** t)
        s_corr = s["s"] / (1 - b2 ** t)
        return w - lr * v_corr / (math.sqrt(s_corr) + eps)

    np.testing.assert_allclose(run(Adam(lr)), by_hand(update, {}), rtol=0, atol=1e-14)


def test_adam_first_step_is_learning_rate_times_sign():
    # bias correction makes v_corr = g and s_corr = g^2 at t = 1, so the step is lr * g / (|g| + eps)
    out = run(Adam(0.01))[0]
    np.testing.assert_allclose(out, [1.0 - 0.01, -2.0 + 0.01, 0.5], atol=1e-9)


def test_adamw_decays_then_steps():
    lr, wd = 0.01, 0.5
    adam = run(Adam(lr), grads=GRADS[:1])[0]
    adamw = run(AdamW(lr, weight_decay=wd), grads=GRADS[:1])[0]
    # one step: w1 = w0 (1 - lr wd) - (the Adam step, which does not depend on w)
    np.testing.assert_allclose(adamw, adam - np.array(W0) * lr * wd, atol=1e-15)


def test_adamw_decays_only_the_weights_of_a_network():
    net = Network([Dense(4, "tanh"), Dense(3, "softmax")], input_dim=5, dtype="float64", seed=0)
    opt = AdamW(0.1, weight_decay=0.5)
    opt.bind(net.layout)
    assert opt.decay_size == 5 * 4 + 4 * 3
    before = net.flat_parameters.copy()
    opt.step(net.flat_parameters, np.zeros_like(before))  # zero gradient: the Adam step is 0
    n = opt.decay_size
    np.testing.assert_allclose(net.flat_parameters[:n], before[:n] * (1 - 0.1 * 0.5), rtol=1e-15)
    np.testing.assert_array_equal(net.flat_parameters[n:], before[n:])  # biases untouched


def test_fit_binds_the_optimizer():
    X, y = np.random.default_rng(0).normal(size=(20, 3)), np.arange(20) % 2
    net = Network([3, 4, 2], seed=0)
    opt = AdamW()
    net.fit(X, y, epochs=1, optimizer=opt, verbose=0)
    assert opt.decay_size == net.decayed_parameters.size


# ----------------------------------------------------------------------------- torch.optim in float64
def _quadratic(n=10, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, n))
    A = A @ A.T / n + np.eye(n)
    b = rng.normal(size=n)
    return (lambda w: A @ w - b), rng.normal(size=n)


TORCH_CASES = [
    ("sgd", lambda: SGD(0.1), lambda T, p: T.SGD(p, lr=0.1)),
    ("classical momentum", lambda: Momentum(0.05, beta=0.9, convention="classical"),
     lambda T, p: T.SGD(p, lr=0.05, momentum=0.9)),
    ("nesterov", lambda: Nesterov(0.05, beta=0.8), lambda T, p: T.SGD(p, lr=0.05, momentum=0.8, nesterov=True)),
    ("rmsprop", lambda: RMSprop(0.01, beta2=0.95, eps=1e-6), lambda T, p: T.RMSprop(p, lr=0.01, alpha=0.95, eps=1e-6)),
    ("adam", lambda: Adam(0.02, beta1=0.8, beta2=0.99), lambda T, p: T.Adam(p, lr=0.02, betas=(0.8, 0.99))),
]


@pytest.mark.parametrize(("label", "ours", "theirs"), TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_matches_torch_optim(label, ours, theirs):
    torch = pytest.importorskip("torch")
    grad, w0 = _quadratic()
    w = w0.copy()
    opt = ours()
    p = torch.tensor(w0.copy(), dtype=torch.float64, requires_grad=True)
    topt = theirs(torch.optim, [p])
    for _ in range(8):
        opt.step(w, grad(w))
        p.grad = torch.tensor(grad(p.detach().numpy()))
        topt.step()
    np.testing.assert_allclose(w, p.detach().numpy(), rtol=1e-12, atol=1e-13)


def test_adamw_matches_torch_with_biases_in_a_no_decay_group():
    torch = pytest.importorskip("torch")
    grad, w0 = _quadratic(12, seed=1)
    n_weights = 8
    w = w0.copy()
    opt = AdamW(0.01, weight_decay=0.3)
    opt.decay_size = n_weights
    pw = torch.tensor(w0[:n_weights].copy(), requires_grad=True)
    pb = torch.tensor(w0[n_weights:].copy(), requires_grad=True)
    topt = torch.optim.AdamW([{"params": [pw]}, {"params": [pb], "weight_decay": 0.0}], lr=0.01, weight_decay=0.3)
    for _ in range(8):
        opt.step(w, grad(w))
        g = grad(torch.cat([pw, pb]).detach().numpy())
        pw.grad, pb.grad = torch.tensor(g[:n_weights]), torch.tensor(g[n_weights:])
        topt.step()
    np.testing.assert_allclose(w, torch.cat([pw, pb]).detach().numpy(), rtol=1e-12, atol=1e-13)


# ----------------------------------------------------------------------------- in a network
def blobs(n=300, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=3.0, size=(3, 5))
    y = rng.integers(0, 3, size=n)
    return (centers[y] + rng.normal(scale=0.8, size=(n, 5))).astype(np.float32), y


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_every_optimizer_trains_a_network(name):
    X, y = blobs()
    net = Network([5, 16, 3], activation="relu", seed=0)
    before = net.evaluate(X, y)["loss"]
    rate = 10 * DEFAULT_LEARNING_RATES[name] if name in ("rmsprop", "adam", "adamw") else None
    history = net.fit(X, y, epochs=5, batch_size=16, optimizer=name, learning_rate=rate, seed=0, verbose=0)
    assert history["learning_rate"][0] == (rate or DEFAULT_LEARNING_RATES[name])
    assert history["loss"][-1] < 0.5 * before
    assert history["accuracy"][-1] > 0.9


def test_state_dict_resumes_training_exactly():
    X, y = blobs()
    a = Network([5, 8, 3], seed=1)
    b = a.copy()
    opt_a = Adam(0.01)
    a.fit(X, y, epochs=2, batch_size=32, optimizer=opt_a, seed=0, verbose=0)
    b.fit(X, y, epochs=2, batch_size=32, optimizer=Adam(0.01), seed=0, verbose=0)
    state = opt_a.state_dict()
    assert state["iterations"] == 2 * 10 and set(state["slots"]) == {"exp_avg", "exp_avg_sq"}
    resumed = Adam(0.01)
    resumed.load_state_dict(state)
    a.fit(X, y, epochs=1, batch_size=32, optimizer=opt_a, seed=5, verbose=0)
    b.fit(X, y, epochs=1, batch_size=32, optimizer=resumed, seed=5, verbose=0)
    np.testing.assert_array_equal(a.flat_parameters, b.flat_parameters)
    state["slots"]["exp_avg"][:] = 99.0  # state_dict returns copies
    assert not (opt_a.state_dict()["slots"]["exp_avg"] == 99.0).any()


def test_load_state_dict_rejects_foreign_state():
    with pytest.raises(ValueError, match="'adam' optimizer, not 'momentum'"):
        Momentum().load_state_dict(Adam().state_dict())
    with pytest.raises(ValueError, match="slots"):
        Momentum().load_state_dict({"iterations": 1, "slots": {"nope": np.zeros(3)}})
    with pytest.raises(ValueError, match="iterations"):
        Momentum().load_state_dict({"iterations": -1, "slots": {}})


def test_one_optimizer_serves_one_network():
    opt = Momentum()
    opt.step(np.zeros(4), np.ones(4))
    with pytest.raises(ValueError, match="state for 4 parameters but was given 5"):
        opt.step(np.zeros(5), np.ones(5))


def test_slots_are_allocated_once_in_the_parameter_dtype():
    opt = Adam()
    w = np.zeros(6, dtype=np.float32)
    opt.step(w, np.ones(6, dtype=np.float32))
    slots = [id(v) for v in opt._slots.values()]
    opt.step(w, np.ones(6, dtype=np.float32))
    assert [id(v) for v in opt._slots.values()] == slots
    assert all(v.dtype == np.float32 for v in opt._slots.values()) and w.dtype == np.float32


# ----------------------------------------------------------------------------- registry, config, errors
def test_default_learning_rates_have_one_source():
    assert training.DEFAULT_LEARNING_RATES is DEFAULT_LEARNING_RATES
    assert DEFAULT_LEARNING_RATES == {"sgd": 0.1, "momentum": 0.1, "nesterov": 0.1, "rmsprop": 0.001,
                                      "adam": 0.001, "adamw": 0.001}
    for name, rate in DEFAULT_LEARNING_RATES.items():
        assert get_optimizer(name).learning_rate == rate


@pytest.mark.parametrize("optimizer", [
    SGD(0.2), Momentum(0.3, beta=0.8, convention="classical"), Nesterov(0.2, 0.7), RMSprop(0.01, 0.95, 1e-7),
    Adam(0.002, 0.8, 0.99, 1e-6), AdamW(weight_decay=0.1),
])
def test_config_round_trip(optimizer):
    rebuilt = get_optimizer(optimizer.get_config())
    assert type(rebuilt) is type(optimizer) and rebuilt.get_config() == optimizer.get_config()
    assert repr(rebuilt).startswith(type(optimizer).__name__ + "(")


@pytest.mark.parametrize(("make", "match"), [
    (lambda: Momentum(beta=1.0), "beta must be in"),
    (lambda: Momentum(beta=-0.1), "beta must be in"),
    (lambda: Momentum(convention="pytorch"), "convention"),
    (lambda: Nesterov(beta=1.5), "beta must be in"),
    (lambda: RMSprop(beta2=1.0), "beta2 must be in"),
    (lambda: RMSprop(eps=0.0), "eps must be"),
    (lambda: Adam(beta1=1.0), "beta1 must be in"),
    (lambda: Adam(eps=-1e-8), "eps must be"),
    (lambda: AdamW(weight_decay=-0.1), "weight_decay must be"),
    (lambda: SGD(-0.1), "learning_rate must be"),
    (lambda: get_optimizer("adagrad"), "unknown optimizer 'adagrad'"),
    (lambda: get_optimizer({"name": "adam", "beta3": 0.5}), "bad parameters for optimizer 'adam'"),
])
def test_bad_hyper_parameters_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_type_errors_name_the_argument():
    with pytest.raises(TypeError, match="beta1 must be a number"):
        Adam(beta1="0.9")
    with pytest.raises(TypeError, match="optimizer must be"):
        get_optimizer(3)


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"])
def test_chunked_update_is_bit_identical_to_one_pass(name):
    rng = np.random.default_rng(3)
    start = rng.standard_normal(1000).astype(np.float32)
    params = [start.copy(), start.copy()]
    whole, chunked = get_optimizer(name, 0.01), get_optimizer(name, 0.01)
    chunked.chunk_size = 64  # 16 chunks, the last one partial
    for _ in range(3):
        grads = rng.standard_normal(1000).astype(np.float32)
        whole.step(params[0], grads.copy())
        chunked.step(params[1], grads.copy())
    np.testing.assert_array_equal(params[0], params[1])
    for a, b in zip(whole.state_dict()["slots"].values(), chunked.state_dict()["slots"].values(), strict=True):
        np.testing.assert_array_equal(a, b)
