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


def rgb_net(kernel=3):
    """A Tiny-VGG-like head: a 3-channel 16×16 input read by a 4-filter conv, then a 1-map conv."""
    from engine.network import Network
    return Network([{"name": "input", "kind": "input", "shape": [3, 16, 16]},
                    {"name": "conv1", "kind": "conv", "filters": 4, "kernel": kernel, "stride": 1,
                     "padding": 0, "in_channels": 3},
                    {"name": "relu1", "kind": "activation", "function": "relu"},
                    {"name": "conv2", "kind": "conv", "filters": 1, "kernel": 3, "stride": 1,
                     "padding": 0, "in_channels": 4},
                    {"name": "flatten", "kind": "flatten"},
                    {"name": "fc", "kind": "dense", "units": 2}], seed=5)


def test_a_channel_slice_is_that_channels_subtotal():
    """Slice c of a 3-channel filter convolved with input channel c, summed over c, plus the
    bias, is the network's own conv1 map; each slice alone is the explanation's subtotal."""
    from engine.explain import explain
    net = rgb_net()
    x = RNG.random((3, 16, 16)).astype(np.float32)
    trace = net.forward(x)
    w, b = net.parameters()["conv1"]["weight"], net.parameters()["conv1"]["bias"]
    total = np.zeros((14, 14))
    for c in range(3):
        kernel, bias = lab.learned_kernel(net, "conv1", 2, channel=c)
        np.testing.assert_array_equal(kernel, w[2, c])
        assert bias == 0.0, "the layer adds its bias once, to the sum over channels"
        part = lab.convolve_map(x[c], kernel, bias=bias).output
        # an independent loop: the definition of one channel's share
        loop = np.array([[np.sum(x[c, y:y + 3, i:i + 3] * w[2, c]) for i in range(14)]
                         for y in range(14)])
        np.testing.assert_allclose(part, loop, rtol=1e-6, atol=1e-6)
        e = explain(net, trace, "conv1", [2, 5, 7])
        sub = float(np.sum(np.asarray(e["source"]["values"]).reshape(3, 3, 3)[c]
                           * np.asarray(e["weight"]).reshape(3, 3, 3)[c]))
        assert part[5, 7] == pytest.approx(sub, rel=1e-5, abs=1e-6)
        total += part
    np.testing.assert_allclose(total + b[2], trace["conv1"].values[2], rtol=1e-5, atol=1e-5)


BAD_LEARNED = [
    (("conv1", 0, None), "learned.channel is needed: conv1 reads 3 input channels; accepted: 0..2"),
    (("conv1", 0, 3), "learned.channel 3 is out of range for conv1 (it reads 3 channels); accepted: 0..2"),
    (("conv1", 4, 0), "filter 4 is out of range for conv1; accepted: 0..3"),
    (("conv2", 0, 0), "not a conv layer reading the input or a single map in this model; accepted: conv1"),
]


@pytest.mark.parametrize("args, words", BAD_LEARNED, ids=[w[:30] for _, w in BAD_LEARNED])
def test_learned_slices_refuse_what_the_layer_lacks(args, words):
    with pytest.raises(BadInput) as e:
        lab.learned_kernel(rgb_net(), *args)
    assert words in str(e.value)


def test_learned_filters_of_a_size_the_lab_lacks_are_refused():
    with pytest.raises(BadInput, match="conv1's filters are 2×2; the lab takes k×k kernels with k one of 1, 3, 5, 7"):
        lab.learned_kernel(rgb_net(kernel=2), "conv1", 0, channel=0)


def test_a_single_map_filter_keeps_its_bias_and_takes_channel_0():
    from engine.network import build_reference
    net = build_reference(seed=3)
    assert lab.learned_kernel(net, "conv1", 1, channel=0)[1] == net.parameters()["conv1"]["bias"][1]
    with pytest.raises(BadInput, match=r"it reads 1 channel\); accepted: 0$"):
        lab.learned_kernel(net, "conv1", 1, channel=1)


def test_a_normalised_map_is_convolved_as_is():
    """(x − mean) / std leaves [0, 1]: such a map is taken within ±MAX_ABS_INPUT."""
    x = (IMAGE - 0.485) / 0.229
    r = lab.convolve_map(x, np.ones((1, 1)) * 2)
    np.testing.assert_allclose(r.output, 2 * x, rtol=1e-12)
    with pytest.raises(BadInput, match="between −100 and 100"):
        lab.convolve_map(IMAGE * 1000, np.ones((1, 1)))


def test_torch_agrees():
    torch = pytest.importorskip("torch")
    kernel = RNG.normal(size=(5, 5))
    r = lab.convolve_map(IMAGE, kernel, stride=2, padding=1, bias=0.1, pool_op="avg")
    t = torch.nn.functional.conv2d(torch.tensor(IMAGE)[None, None], torch.tensor(kernel)[None, None],
                                   torch.tensor([0.1], dtype=torch.float64), stride=2, padding=1)
    np.testing.assert_allclose(r.output, t[0, 0].numpy(), rtol=1e-12, atol=1e-12)
    p = torch.nn.functional.avg_pool2d(torch.relu(t), 2)
    np.testing.assert_allclose(r.pooled, p[0, 0].numpy(), rtol=1e-12, atol=1e-12)
