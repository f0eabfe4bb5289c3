"""mlpkit.autodiff: every operation's gradient against central finite differences, dtypes, stability, errors."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import pytest

import mlpkit.autodiff as ad
from mlpkit.autodiff import AutodiffError, Tensor

RNG = np.random.default_rng(16)


# ------------------------------------------------------------------------------------------------ helpers
def normal(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


def positive(*shape: int) -> np.ndarray:
    return RNG.uniform(0.5, 2.0, shape)


def away_from_zero(*shape: int) -> np.ndarray:
    """Entries of size 0.3 to 2 with random signs (for |x|, relu, sign-dependent kinks)."""
    return RNG.uniform(0.3, 2.0, shape) * RNG.choice([-1.0, 1.0], shape)


def distinct(*shape: int) -> np.ndarray:
    """Entries with no ties (for max, min, maximum): a shuffled, spread-out range."""
    return RNG.permutation(np.arange(int(np.prod(shape)), dtype=float)).reshape(shape) * 0.37 - 1.0


def numeric_gradients(f: Callable[..., Tensor], arrays: list[np.ndarray], eps: float = 1e-6) -> list[np.ndarray]:
    """Central differences (f(x + eps) - f(x - eps)) / 2 eps of the scalar f, entry by entry."""
    grads = []
    for k, array in enumerate(arrays):
        grad = np.zeros_like(array)
        for i in np.ndindex(array.shape):
            shifted = [a.copy() for a in arrays]
            shifted[k][i] = array[i] + eps
            up = f(*[Tensor(a) for a in shifted]).item()
            shifted[k][i] = array[i] - eps
            down = f(*[Tensor(a) for a in shifted]).item()
            grad[i] = (up - down) / (2 * eps)
        grads.append(grad)
    return grads


def check_gradients(op: Callable[..., Tensor], arrays: list[np.ndarray]) -> None:
    """The gradient of sum(op(*inputs) * R), R a fixed random array (so that every output entry counts
    differently), from backward() against central differences, in float64."""
    out_shape = op(*[Tensor(a) for a in arrays]).shape
    weights = RNG.standard_normal(out_shape)

    def scalar(*tensors: Tensor) -> Tensor:
        return ad.sum(op(*tensors) * weights)

    inputs = [Tensor(a, requires_grad=True) for a in arrays]
    scalar(*inputs).backward()
    for t, expected in zip(inputs, numeric_gradients(scalar, arrays), strict=True):
        assert t.grad is not None and t.grad.shape == t.shape and t.grad.dtype == np.float64
        np.testing.assert_allclose(t.grad, expected, rtol=1e-5, atol=1e-7)


# name -> (operation, input arrays)
CASES: dict[str, tuple[Callable[..., Tensor], list[np.ndarray]]] = {
    "add broadcast (3,1)+(4,)": (lambda a, b: a + b, [normal(3, 1), normal(4)]),
    "add scalar": (lambda a: 2.5 + a, [normal(2, 3)]),
    "subtract broadcast (2,1,4)-(3,1)": (lambda a, b: a - b, [normal(2, 1, 4), normal(3, 1)]),
    "rsubtract": (lambda a: 1.0 - a, [normal(3)]),
    "multiply broadcast (2,3)*(3,)": (lambda a, b: a * b, [normal(2, 3), normal(3)]),
    "multiply same tensor twice": (lambda a: a * a, [normal(4)]),
    "divide broadcast (3,4)/(4,)": (lambda a, b: a / b, [normal(3, 4), positive(4)]),
    "rdivide": (lambda a: 3.0 / a, [positive(2, 2)]),
    "power scalar exponent": (lambda a: a ** 2.5, [positive(3, 2)]),
    "power tensor exponent": (lambda a, b: a ** b, [positive(3, 1), normal(2)]),
    "rpower": (lambda a: 2.0 ** a, [normal(3)]),
    "negative": (lambda a: -a, [normal(2, 2)]),
    "matmul 2-D": (lambda a, b: a @ b, [normal(3, 4), normal(4, 2)]),
    "matmul vector @ matrix": (lambda a, b: a @ b, [normal(4), normal(4, 2)]),
    "matmul matrix @ vector": (lambda a, b: a @ b, [normal(3, 4), normal(4)]),
    "matmul vector @ vector": (lambda a, b: a @ b, [normal(5), normal(5)]),
    "matmul batched broadcast": (lambda a, b: a @ b, [normal(2, 3, 4), normal(4, 5)]),
    "matmul ndarray @ tensor": (lambda b: np.ones((2, 3)) @ b, [normal(3, 2)]),
    "exp": (ad.exp, [normal(2, 3)]),
    "log": (ad.log, [positive(2, 3)]),
    "sqrt": (ad.sqrt, [positive(4)]),
    "abs": (ad.abs, [away_from_zero(3, 2)]),
    "square": (ad.square, [normal(3)]),
    "maximum broadcast": (ad.maximum, [distinct(3, 1), distinct(4) + 0.1]),
    "minimum with a number": (lambda a: ad.minimum(a, 0.05), [distinct(2, 3)]),
    "where": (lambda a, b: ad.where(np.array([[True, False, True]]), a, b), [normal(2, 3), normal(3)]),
    "where tensor condition": (lambda a: ad.where(a > 0, a, 0.5 * a), [away_from_zero(5)]),
    "clip": (lambda a: ad.clip(a, -0.2, 0.2), [away_from_zero(6) * 0.5]),
    "reshape": (lambda a: a.reshape(3, 4), [normal(2, 6)]),
    "reshape -1": (lambda a: ad.reshape(a, (-1,)), [normal(2, 3)]),
    "transpose T": (lambda a: a.T, [normal(2, 3)]),
    "transpose axes": (lambda a: a.transpose(2, 0, 1), [normal(2, 3, 4)]),
    "getitem basic": (lambda a: a[1:, ::-2, None, 0], [normal(3, 4, 2)]),
    "getitem ellipsis and int": (lambda a: a[..., -1], [normal(2, 3)]),
    "getitem integer arrays with repeats": (lambda a: a[np.array([0, 2, 0]), np.array([1, 1, 1])],
                                            [normal(3, 2)]),
    "getitem boolean mask": (lambda a: a[np.array([True, False, True])], [normal(3, 2)]),
    "concatenate": (lambda a, b: ad.concatenate([a, b], axis=1), [normal(2, 3), normal(2, 1)]),
    "astype float64": (lambda a: a.astype(np.float64) * 2, [normal(3)]),
    "sigmoid": (ad.sigmoid, [normal(3, 2) * 3]),
    "tanh": (ad.tanh, [normal(3, 2)]),
    "relu": (ad.relu, [away_from_zero(3, 4)]),
    "softmax rows": (ad.softmax, [normal(3, 4)]),
    "softmax axis 0": (lambda a: ad.softmax(a, axis=0), [normal(3, 4)]),
    "log_softmax rows": (ad.log_softmax, [normal(3, 4)]),
    "log_softmax axis 0": (lambda a: ad.log_softmax(a, axis=0), [normal(3, 4)]),
    "logsumexp rows": (ad.logsumexp, [normal(3, 4)]),
    "logsumexp all, keepdims": (lambda a: ad.logsumexp(a, None, keepdims=True), [normal(3, 4)]),
    "logsumexp axis 0": (lambda a: ad.logsumexp(a, 0), [normal(3, 4)]),
    "bce with logits (z and y)": (ad.binary_cross_entropy_with_logits, [normal(4, 2) * 3, RNG.uniform(0, 1, (4, 2))]),
    "cross entropy with logits (z and y)": (ad.cross_entropy_with_logits,
                                            [normal(4, 3), RNG.dirichlet(np.ones(3), 4)]),
}
for axis in (None, 0, 1, 2, -1, (0, 2)):
    for keepdims in (False, True):
        for name in ("sum", "mean"):
            CASES[f"{name} (2,3,4) axis={axis} keepdims={keepdims}"] = (
                lambda a, name=name, axis=axis, keepdims=keepdims: getattr(ad, name)(a, axis, keepdims),
                [normal(2, 3, 4)])
        for name in ("max", "min"):
            CASES[f"{name} (2,3,4) axis={axis} keepdims={keepdims}"] = (
                lambda a, name=name, axis=axis, keepdims=keepdims: getattr(a, name)(axis, keepdims),
                [distinct(2, 3, 4)])


@pytest.mark.parametrize("name", list(CASES))
def test_gradient_matches_central_differences(name: str) -> None:
    op, arrays = CASES[name]
    check_gradients(op, arrays)


def test_the_checker_catches_a_wrong_backward_rule() -> None:
    def doubled_wrong(x: Tensor) -> Tensor:  # forward 2x, backward claims 3
        return ad.tensor.node(2 * x.data, "wrong", (x,), lambda g, out: (3 * g,))

    with pytest.raises(AssertionError):
        check_gradients(doubled_wrong, [normal(3)])


def test_tied_max_and_maximum_share_the_gradient() -> None:
    x = Tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.5, 0.5])
    a, b = Tensor(2.0, requires_grad=True), Tensor(2.0, requires_grad=True)
    ad.maximum(a, b).backward()
    assert (a.grad, b.grad) == (0.5, 0.5)


# ------------------------------------------------------------------------------------------------ the graph
def test_backward_fills_intermediates_and_accumulates_into_leaves() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    hidden = x * 3
    out = ad.sum(hidden ** 2)
    out.backward()
    np.testing.assert_allclose(hidden.grad, 2 * hidden.data)  # intermediate: d out / d hidden
    np.testing.assert_allclose(x.grad, 18 * x.data)
    out.backward()  # a leaf accumulates, like PyTorch
    np.testing.assert_allclose(x.grad, 36 * x.data)
    x.zero_grad()
    assert x.grad is None


def test_a_leaf_gradient_is_its_own_array() -> None:
    x = Tensor(np.ones(3), requires_grad=True)
    y = Tensor(np.ones(3), requires_grad=True)
    (x + y).backward(np.ones(3))  # add hands the same g to both
    x.grad[0] = 5.0
    assert y.grad[0] == 1.0


def test_seeded_backward_of_a_non_scalar() -> None:
    x = Tensor(normal(2, 3), requires_grad=True)
    seed = normal(2, 3)
    ad.exp(x).backward(seed)
    np.testing.assert_allclose(x.grad, seed * np.exp(x.data))


def test_deep_graph_needs_no_recursion() -> None:
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0


def test_constants_get_no_gradient_and_nodes_lists_the_graph_inputs_first() -> None:
    w = Tensor(2.0, requires_grad=True, name="w")
    c = Tensor(3.0, name="c")
    cost = w * c + 1.0
    cost.backward()
    assert c.grad is None and w.grad == 3.0
    order = ad.nodes(cost)
    assert order[-1] is cost and {id(t) for t in order} >= {id(w), id(c)}
    for position, t in enumerate(order):
        assert all(order.index(p) < position for p in t.parents)
    assert [t.op for t in order if t.op] == ["multiply", "add"]
    assert cost.parents[0].parents == (w, c)


def test_ndarray_on_the_left_gives_a_tensor() -> None:
    x = Tensor(normal(3), requires_grad=True)
    out = np.ones(3) * x + np.ones(3)
    assert isinstance(out, Tensor) and out.requires_grad


def test_no_grad_skips_the_graph_and_is_per_thread() -> None:
    x = Tensor(normal(3), requires_grad=True)
    seen: list[bool] = []
    with ad.no_grad():
        y = ad.exp(x) * 2
        with ad.no_grad():
            pass
        assert not ad.is_grad_enabled()
        worker = threading.Thread(target=lambda: seen.append((x * 2).requires_grad))
        worker.start()
        worker.join()
    assert not y.requires_grad and y.op == "" and y.parents == ()
    assert ad.is_grad_enabled() and (x * 2).requires_grad
    assert seen == [True]


def test_detach_stops_the_gradient() -> None:
    x = Tensor(3.0, requires_grad=True)
    (x * x.detach()).backward()
    assert x.grad == 3.0


def test_comparisons_and_argmax_are_constants() -> None:
    x = Tensor([-1.0, 2.0, 0.5], requires_grad=True)
    mask = x > 0
    assert mask.dtype == bool and not mask.requires_grad
    np.testing.assert_array_equal(mask.data, [False, True, True])
    assert (x <= 0.5).data.tolist() == [True, False, True]
    assert x.argmax().item() == 1


# ------------------------------------------------------------------------------------------------ grad()
def test_grad_of_the_course_cost() -> None:
    cost = ad.grad(lambda w: w ** 2 - 10 * w + 25)
    assert cost(0.0) == pytest.approx(-10.0)
    assert cost(5.0) == pytest.approx(0.0)


def test_grad_with_argnums_tuple_and_pass_through_arguments() -> None:
    def f(x: Tensor, y: Tensor, scale: float) -> Tensor:
        return ad.sum(x * y) * scale + ad.sum(x ** 2)

    x, y = normal(2, 3), normal(2, 3)
    gx, gy = ad.grad(f, argnums=(0, 1))(x, y, 2.0)
    np.testing.assert_allclose(gx, 2 * y + 2 * x)
    np.testing.assert_allclose(gy, 2 * x)
    np.testing.assert_allclose(ad.grad(f, argnums=1)(x, y, 3.0), 3 * x)
    value, gx_only = ad.value_and_grad(f)(x, y, 1.0)
    assert value == pytest.approx(float(np.sum(x * y) + np.sum(x ** 2)))
    np.testing.assert_allclose(gx_only, y + 2 * x)


def test_grad_of_an_argument_that_does_not_matter_is_zero() -> None:
    gx, gy = ad.grad(lambda x, y: ad.sum(x ** 2), argnums=(0, 1))(np.ones(2), np.ones(3))
    np.testing.assert_array_equal(gy, np.zeros(3))
    np.testing.assert_array_equal(gx, 2 * np.ones(2))


def test_grad_records_even_under_no_grad() -> None:
    with ad.no_grad():
        assert ad.grad(lambda x: ad.sum(x ** 3))(np.array([2.0])) == pytest.approx([12.0])


# ------------------------------------------------------------------------------------------------ dtypes
FLOAT32_OPS: dict[str, Callable[[Tensor], Tensor]] = {
    "arithmetic with numbers": lambda x: (2.0 * x - 1) / 3.0 + x ** 2,
    "matmul": lambda x: x @ x.T,
    "exp log sqrt abs": lambda x: ad.log(ad.exp(x)) + ad.sqrt(ad.abs(x) + 1),
    "reductions": lambda x: x.sum(0) + x.mean(0) + x.max(0),
    "activations": lambda x: ad.sigmoid(x) + ad.tanh(x) + ad.relu(x),
    "softmax family": lambda x: ad.softmax(x) + ad.log_softmax(x) + ad.logsumexp(x, -1, keepdims=True),
    "indexing": lambda x: x[np.array([0, 0, 1])],
    "costs": lambda x: ad.binary_cross_entropy_with_logits(x, np.float32(0.5) * np.ones_like(x.data))
    + ad.cross_entropy_with_logits(x, np.eye(3, dtype=np.float32)[[0, 1]]),
}


@pytest.mark.parametrize("name", list(FLOAT32_OPS))
def test_float32_in_float32_out(name: str) -> None:
    x = Tensor(normal(2, 3).astype(np.float32), requires_grad=True)
    out = FLOAT32_OPS[name](x)
    assert out.dtype == np.float32
    ad.sum(out).backward()
    assert x.grad.dtype == np.float32


def test_float32_parameter_with_float64_data_keeps_a_float32_gradient() -> None:
    w = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    out = ad.sum(w * normal(3))  # float64 data promotes the product
    assert out.dtype == np.float64
    out.backward()
    assert w.grad.dtype == np.float32


def test_scalar_conversions() -> None:
    x = Tensor([2.5])
    assert float(x) == 2.5 and x.item() == 2.5 and bool(x > 1) and not bool(x < 1)
    assert np.asarray(x) is x.data and x.numpy() is x.data and len(x) == 1


def test_python_numbers_become_float64_and_integers_stay_integers() -> None:
    assert Tensor(2.0).dtype == np.float64
    assert Tensor([1, 2]).dtype.kind == "i"
    assert Tensor(np.float32(1.0)).dtype == np.float32


# ------------------------------------------------------------------------------------------------ stability
def test_softmax_family_of_huge_logits() -> None:
    x = Tensor([1000.0, 0.0], requires_grad=True)
    s = ad.softmax(x)
    np.testing.assert_allclose(s.data, [1.0, 0.0])
    np.testing.assert_allclose(ad.log_softmax(x).data, [0.0, -1000.0])
    assert ad.logsumexp(Tensor([1000.0, 1000.0])).item() == pytest.approx(1000 + np.log(2))
    assert ad.logsumexp(Tensor([-np.inf, -np.inf])).item() == -np.inf
    (s[0] + ad.log_softmax(x)[1]).backward()
    assert np.all(np.isfinite(x.grad))
    np.testing.assert_allclose(x.grad, [-1.0, 1.0])  # d log_softmax_1 = e_1 - softmax; softmax's is 0 here


def test_bce_with_logits_at_plus_minus_1000() -> None:
    z = Tensor([1000.0, -1000.0], requires_grad=True)
    right = ad.binary_cross_entropy_with_logits(z, np.array([1.0, 0.0]))
    assert right.item() == 0.0
    right.backward()
    np.testing.assert_array_equal(z.grad, [0.0, 0.0])
    z.zero_grad()
    wrong = ad.binary_cross_entropy_with_logits(z, np.array([0.0, 1.0]))
    assert wrong.item() == pytest.approx(1000.0)  # (1000 + 1000) / 2 rows
    wrong.backward()
    np.testing.assert_allclose(z.grad, [0.5, -0.5])  # (sigma(z) - y) / m


def test_cross_entropy_with_huge_logits() -> None:
    z = Tensor([[1000.0, 0.0], [0.0, 0.0]], requires_grad=True)
    cost = ad.cross_entropy_with_logits(z, np.array([[0.0, 1.0], [1.0, 0.0]]))
    assert cost.item() == pytest.approx((1000.0 + np.log(2)) / 2)
    cost.backward()
    np.testing.assert_allclose(z.grad, [[0.5, -0.5], [-0.25, 0.25]])


def test_cross_entropy_of_one_example_and_the_mean_over_rows() -> None:
    z, y = normal(3), np.eye(3)[1]
    one = ad.cross_entropy_with_logits(Tensor(z), y).item()
    assert one == pytest.approx(-(z[1] - np.log(np.sum(np.exp(z)))))
    both = ad.cross_entropy_with_logits(Tensor(np.stack([z, z + 1])), np.stack([y, y])).item()
    assert both == pytest.approx(one)  # the mean over rows, and softmax ignores a shift


def test_sigmoid_of_huge_logits() -> None:
    x = Tensor([-1000.0, 1000.0], requires_grad=True)
    s = ad.sigmoid(x)
    np.testing.assert_array_equal(s.data, [0.0, 1.0])
    ad.sum(s).backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


# ------------------------------------------------------------------------------------------------ errors
def one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message and isinstance(exc.value, ValueError)
    return message


@pytest.mark.parametrize(("name", "call", "pattern"), [
    ("add", lambda a, b: a + b, r"add: shapes \(3, 2\) and \(4,\) cannot be broadcast"),
    ("subtract", lambda a, b: a - b, r"subtract: shapes \(3, 2\) and \(4,\)"),
    ("multiply", lambda a, b: a * b, r"multiply: shapes \(3, 2\) and \(4,\)"),
    ("divide", lambda a, b: a / b, r"divide: shapes \(3, 2\) and \(4,\)"),
    ("power", lambda a, b: a ** b, r"power: shapes \(3, 2\) and \(4,\)"),
    ("maximum", ad.maximum, r"maximum: shapes \(3, 2\) and \(4,\)"),
    ("minimum", ad.minimum, r"minimum: shapes \(3, 2\) and \(4,\)"),
    ("where", lambda a, b: ad.where(np.ones(2, bool), a, b), r"where: shapes \(2,\), \(3, 2\) and \(4,\)"),
    ("matmul", lambda a, b: a @ b, r"matmul: shapes \(3, 2\) and \(4,\) do not align"),
    ("bce", ad.binary_cross_entropy_with_logits,
     r"binary_cross_entropy_with_logits: logits of shape \(3, 2\) and targets of shape \(4,\)"),
    ("cross entropy", ad.cross_entropy_with_logits,
     r"cross_entropy_with_logits: logits of shape \(3, 2\) and targets of shape \(4,\)"),
    ("concatenate", lambda a, b: ad.concatenate([a, b]), r"concatenate: shapes \(3, 2\), \(4,\)"),
])
def test_shape_mismatch_names_the_operation_and_both_shapes(name: str, call: Callable, pattern: str) -> None:
    a, b = Tensor(np.ones((3, 2)), requires_grad=True), Tensor(np.ones(4))
    with pytest.raises(AutodiffError, match=pattern) as exc:
        call(a, b)
    one_line(exc)


def test_reshape_and_reduction_errors() -> None:
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(AutodiffError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\) into \(4,\)"):
        x.reshape(4)
    with pytest.raises(AutodiffError, match=r"sum: cannot reduce a tensor of shape \(2, 3\) over axis 2"):
        x.sum(axis=2)
    with pytest.raises(AutodiffError, match=r"transpose: axes \(0, 0\) do not fit a tensor of shape \(2, 3\)"):
        x.transpose(0, 0)
    with pytest.raises(AutodiffError, match=r"softmax: cannot reduce a tensor of shape \(2, 3\) over axis 2"):
        ad.softmax(x, axis=2)


def test_backward_of_a_non_scalar_needs_a_seed() -> None:
    y = Tensor(np.ones((2, 3)), requires_grad=True) * 2
    with pytest.raises(AutodiffError, match=r"non-scalar tensor of shape \(2, 3\) needs a seed") as exc:
        y.backward()
    one_line(exc)
    with pytest.raises(AutodiffError, match=r"seed of shape \(3,\) does not match the tensor's shape \(2, 3\)"):
        y.backward(np.ones(3))


def test_backward_of_a_constant() -> None:
    with pytest.raises(AutodiffError, match="does not depend on any tensor with requires_grad=True") as exc:
        (Tensor(1.0) * 2).backward()
    one_line(exc)


def test_integer_tensors_have_no_gradient() -> None:
    with pytest.raises(AutodiffError, match="a int64 tensor cannot require a gradient") as exc:
        Tensor(np.array([1, 2], dtype=np.int64), requires_grad=True)
    one_line(exc)
    with pytest.raises(AutodiffError, match="grad: argument 0 has dtype int64") as exc:
        ad.grad(lambda x: ad.sum(x * 2.0))(np.array([1, 2], dtype=np.int64))
    one_line(exc)


@pytest.mark.parametrize("op", [ad.sign, ad.round])
def test_no_gradient_through_a_piecewise_constant_operation(op: Callable[[Tensor], Tensor]) -> None:
    x = Tensor([0.4, -1.2], requires_grad=True)
    with pytest.raises(AutodiffError, match=rf"cannot differentiate through '{op.__name__}'") as exc:
        ad.sum(op(x) * x).backward()
    one_line(exc)
    y = Tensor([0.4, -1.2], requires_grad=True)
    ad.sum(op(y.detach()) * y).backward()  # as a constant it is fine
    np.testing.assert_array_equal(y.grad, op(Tensor([0.4, -1.2])).data)


def test_grad_misuse() -> None:
    with pytest.raises(AutodiffError, match=r"f must return a one-element Tensor \(the cost\), got a tensor of shape"):
        ad.grad(lambda x: x * 2)(np.ones(3))
    with pytest.raises(AutodiffError, match="asks for argument 1 but f got 1 positional"):
        ad.grad(lambda x, y=1.0: ad.sum(x), argnums=(0, 1))(np.ones(2))
    with pytest.raises(AutodiffError, match="argnums must be an int"):
        ad.grad(lambda x: x, argnums=())
    with pytest.raises(AutodiffError, match="Tensor data must be numbers"):
        Tensor("text")
