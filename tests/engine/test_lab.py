"""engine.lab against loops written here from the definitions, and PyTorch when present."""
import itertools

import numpy as np
import pytest

from engine import lab
from engine.errors import BadInput

RNG = np.random.default_rng(7)
IMAGE = RNG.random((32, 32))
SMALL = RNG.random((13, 16))         # not square: catches a height/width swap


def conv_loop(x, kernel, stride, padding, bias=0.0):
    """out[y, x] = Σ_ij kernel[i, j] · xpad[y·S + i, x·S + j] + bias, one scalar at a time."""
    H, W = x.shape
    k = kernel.shape[0]
    xp = np.zeros((H + 2 * padding, W + 2 * padding))
    xp[padding:padding + H, padding:padding + W] = x
    oh = (H - k + 2 * padding) // stride + 1
    ow = (W - k + 2 * padding) // stride + 1
    out = np.zeros((oh, ow))
    for y in range(oh):
        for x_ in range(ow):
            total = bias
            for i in range(k):
                for j in range(k):
                    total += kernel[i, j] * xp[y * stride + i, x_ * stride + j]
            out[y, x_] = total
    return out


def pool_loop(x, op, window, stride):
    oh = (x.shape[0] - window) // stride + 1
    ow = (x.shape[1] - window) // stride + 1
    out = np.zeros((oh, ow))
    for y in range(oh):
        for x_ in range(ow):
            cells = [x[y * stride + i, x_ * stride + j] for i in range(window) for j in range(window)]
            out[y, x_] = {"max": max, "sum": sum, "avg": lambda c: sum(c) / len(c)}[op](cells)
    return out


@pytest.mark.parametrize("k", lab.KERNEL_SIZES)
def test_every_size_stride_padding_matches_the_loop(k):
    kernel = RNG.normal(size=(k, k))
    for stride, padding in itertools.product(lab.STRIDES, lab.PADDINGS):
        r = lab.convolve_map(SMALL, kernel, stride, padding, bias=0.25)
        expect = conv_loop(SMALL, kernel, stride, padding, bias=0.25)
        where = f"k={k} stride={stride} padding={padding}"
        assert r.output.shape == expect.shape, where
        np.testing.assert_allclose(r.output, expect, rtol=1e-12, atol=1e-12, err_msg=where)
        # The size formula, written out, gives the shape actually computed.
        for axis, n in (("height", 0), ("width", 1)):
            s, side = r.sizes["conv"][axis], SMALL.shape[n]
            assert s["output"] == expect.shape[n] == (side - k + 2 * padding) // stride + 1, where
            assert s["exact"] == ((side - k + 2 * padding) % stride == 0), where
        assert r.padded.shape == (13 + 2 * padding, 16 + 2 * padding)
        np.testing.assert_array_equal(r.relu, np.maximum(r.output, 0), err_msg=where)


def test_padded_border_is_zero_and_centre_is_the_image():
    r = lab.convolve_map(IMAGE, lab.KERNELS["identity"].values, padding=3)
    ring = r.padded.copy()
    ring[3:-3, 3:-3] = 0
    assert not ring.any()
    np.testing.assert_array_equal(r.padded[3:-3, 3:-3], IMAGE)
    # Identity with padding 1 gives the image back exactly.
    np.testing.assert_array_equal(lab.convolve_map(IMAGE, lab.KERNELS["identity"].values,
                                                   padding=1).output, IMAGE)


@pytest.mark.parametrize("op", lab.POOL_OPS)
@pytest.mark.parametrize("window", lab.POOL_WINDOWS)
def test_pooling_of_the_relu_map_matches_the_loop(op, window):
    r = lab.convolve_map(IMAGE, lab.KERNELS["edge_all"].values, stride=1, padding=1,
                         pool_op=op, pool_window=window)
    expect = pool_loop(r.relu, op, window, window)
    np.testing.assert_allclose(r.pooled, expect, rtol=1e-12, atol=1e-12)
    assert r.sizes["pool"]["height"]["output"] == expect.shape[0]


def test_products_sum_to_each_output_cell():
    r = lab.convolve_map(IMAGE, RNG.normal(size=(5, 5)), stride=2, padding=1, bias=-0.5)
    prods = r.products()
    assert prods.shape == r.output.shape + (5, 5)
    np.testing.assert_allclose(prods.sum(axis=(2, 3)) + r.bias, r.output, rtol=1e-12, atol=1e-12)
    for y, x in [(0, 0), (3, 7), (14, 14)]:
        win, p = r.window(y, x)
        np.testing.assert_array_equal(win, r.padded[2 * y:2 * y + 5, 2 * x:2 * x + 5])
        np.testing.assert_allclose(p, prods[y, x], rtol=1e-15)


def test_size_text_reads_like_the_formula():
    assert lab.size_arithmetic(32, 5, 1, 2)["text"] == "(32 − 5 + 2·2) / 1 + 1 = 32"
    assert lab.size_arithmetic(32, 5, 2, 1)["text"] == "(32 − 5 + 2·1) / 2 + 1 = 15.5 → 15"
    floor = lab.size_arithmetic(32, 5, 2, 0)
    assert floor["text"] == "(32 − 5 + 2·0) / 2 + 1 = 14.5 → 14"
    assert (floor["output"], floor["exact"], floor["uncovered"]) == (14, False, 1)
    assert lab.size_arithmetic(28, 5, 1, 0)["output"] == 24


def test_classic_kernels_are_the_textbook_ones():
    assert set(lab.KERNELS) >= {"identity", "edge_diagonal", "edge_cross", "edge_all", "sharpen",
                                "box_blur", "gaussian_blur"}
    for name in ("box_blur", "gaussian_blur", "gaussian_blur_5"):
        assert lab.KERNELS[name].values.sum() == pytest.approx(1.0)   # blurs keep brightness
    for name in ("edge_diagonal", "edge_cross", "edge_all"):
        assert lab.KERNELS[name].values.sum() == 0                     # flat areas go to zero
    flat = np.full((10, 10), 0.5)
    assert not lab.convolve_map(flat, lab.KERNELS["edge_all"].values).output.any()


@pytest.mark.parametrize("kwargs, words", [
    ({"kernel": np.ones((4, 4))}, "k×k with k one of 1, 3, 5, 7"),
    ({"kernel": np.ones((9, 9))}, "at most 7×7"),
    ({"kernel": np.ones((3, 5))}, "shape [3, 5]"),
    ({"kernel": [[np.nan]]}, "finite"),
    ({"kernel": [[1e9]]}, "between"),
    ({"stride": 4}, "stride is 4; accepted: 1, 2, 3"),
    ({"stride": 0}, "accepted: 1, 2, 3"),
    ({"padding": -1}, "accepted: 0, 1, 2, 3"),
    ({"padding": 4}, "accepted: 0, 1, 2, 3"),
    ({"pool_op": "median"}, "accepted: max, avg, sum"),
    ({"pool_window": 5}, "accepted: 1, 2, 3, 4"),
])
def test_bad_arguments_name_the_accepted_range(kwargs, words):
    args = {"kernel": np.ones((3, 3))} | kwargs
    with pytest.raises(BadInput, match=words.replace("[", r"\[").replace("]", r"\]")):
        lab.convolve_map(IMAGE, **args)


def test_kernel_larger_than_the_map_is_refused():
    with pytest.raises(BadInput, match="does not fit"):
        lab.convolve_map(np.ones((4, 4)), np.ones((7, 7)))


def test_learned_filter_is_conv1s_own_slice():
    from engine.network import build_reference
    net = build_reference(seed=3)
    kernel, bias = lab.learned_kernel(net, "conv1", 4)
    np.testing.assert_array_equal(kernel, net.parameters()["conv1"]["weight"][4, 0])
    assert bias == net.parameters()["conv1"]["bias"][4]
    # The lab with a learned filter reproduces the network's own conv1 map.
    image = RNG.random((1, 32, 32)).astype(np.float32)
    r = lab.convolve_map(image[0], kernel, bias=bias)
    np.testing.assert_allclose(r.output, net.forward(image)["conv1"].values[4], atol=1e-5)
    with pytest.raises(BadInput, match="accepted: 0..5"):
        lab.learned_kernel(net, "conv1", 6)
    with pytest.raises(BadInput, match="accepted: conv1"):
        lab.learned_kernel(net, "conv2", 0)


def test_torch_agrees():
    torch = pytest.importorskip("torch")
    kernel = RNG.normal(size=(5, 5))
    r = lab.convolve_map(IMAGE, kernel, stride=2, padding=1, bias=0.1, pool_op="avg")
    t = torch.nn.functional.conv2d(torch.tensor(IMAGE)[None, None], torch.tensor(kernel)[None, None],
                                   torch.tensor([0.1], dtype=torch.float64), stride=2, padding=1)
    np.testing.assert_allclose(r.output, t[0, 0].numpy(), rtol=1e-12, atol=1e-12)
    p = torch.nn.functional.avg_pool2d(torch.relu(t), 2)
    np.testing.assert_allclose(r.pooled, p[0, 0].numpy(), rtol=1e-12, atol=1e-12)
