"""Each model's input is its own: /api/model serves the declaration and the kind
descriptions; the one input adapter gives MNIST models exactly the MNIST pipeline's input,
Fashion-MNIST drawings their own crop-and-fit, and colour models an RGB resize + normalise."""
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.config import Settings
from app.main import create_app
from engine.inputspec import check_declaration, prepare
from engine.network import Network
from engine.preprocess import preprocess, to_network_input
from tests.api.test_models import _model_files

RGB_SPEC = [
    {"name": "input", "kind": "input", "shape": [3, 16, 16]},
    {"name": "conv", "kind": "conv", "filters": 2, "kernel": 3, "stride": 2, "padding": 1},
    {"name": "flatten", "kind": "flatten"},
    {"name": "fc", "kind": "dense", "units": 3},
]
RGB_INPUT = {"preprocess": "resize", "mean": [0.5, 0.4, 0.3], "std": [0.2, 0.25, 0.3],
             "subject": "image"}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    files = _model_files(tmp_path_factory)
    colour = tmp_path_factory.mktemp("rgb") / "tiny-rgb.npz"
    Network(RGB_SPEC, seed=1).save(colour, {"name": "tiny-rgb", "dataset": "pictures",
                                            "classes": ["a", "b", "c"], "input": RGB_INPUT})
    settings = Settings(model_path=files["lenet-mnist"],
                        extra_models=(files["lenet-fashion"], colour))
    with TestClient(create_app(settings)) as c:
        yield c


def _input(response) -> np.ndarray:
    layer = response.json()["layers"][0]
    return np.asarray(layer["values"], np.float32).reshape(layer["shape"])


def test_model_serves_input_declaration_and_kinds(client):
    info = client.get("/api/model").json()
    assert info["input"]["preprocess"] == "mnist" and info["input"]["prompt"] == "Draw a digit here"
    assert info["input"]["shape"] == [1, 32, 32] and info["input"]["pad"] == 2
    assert set(info["kinds"]) == {"input", "conv", "activation", "pool", "flatten", "dense",
                                  "softmax"}
    assert info["samples"] is True
    fashion = client.get("/api/model?model=lenet-fashion").json()["input"]
    assert fashion["subject"] == "clothing" and fashion["prompt"] == "Draw a piece of clothing"
    rgb = client.get("/api/model?model=tiny-rgb").json()
    assert rgb["input"]["channels"] == 3 and rgb["input"]["mean"] == [0.5, 0.4, 0.3]
    assert rgb["samples"] is False


def test_mnist_model_input_is_the_mnist_pipeline_bit_for_bit(client, pad_drawing, data_url,
                                                             digit):
    got = _input(client.post("/api/forward", json={"image": data_url(pad_drawing, "RGBA")}))
    ink = np.asarray(Image.fromarray(pad_drawing[..., 3]))
    np.testing.assert_array_equal(got, preprocess(ink).input)
    body = {"pixels": digit.ravel().tolist(), "width": 28, "height": 28, "preprocess": False}
    np.testing.assert_array_equal(_input(client.post("/api/forward", json=body)),
                                  to_network_input(digit, preprocess=False))


def test_fashion_drawing_is_cropped_and_fitted_not_centred_like_a_digit(client, pad_drawing,
                                                                       data_url):
    r = client.post("/api/forward?model=lenet-fashion",
                    json={"image": data_url(pad_drawing, "RGBA")})
    assert r.status_code == 200
    got = _input(r)[0]
    inner = got[2:-2, 2:-2]
    rows = np.flatnonzero(inner.max(axis=1) > 0)
    # The ink's longer side fills the 28×28 frame (a digit is fitted to 20×20 instead).
    assert rows[-1] - rows[0] + 1 >= 27
    assert not np.array_equal(got, preprocess(pad_drawing[..., 3]).input[0])
    steps = [s["name"] for s in r.json()["preprocessing"]["steps"]]
    assert steps == ["fitted", "input"]


def test_colour_model_resizes_and_normalises_rgb(client, data_url):
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
    r = client.post("/api/forward?model=tiny-rgb", json={"image": data_url(photo, "RGB")})
    assert r.status_code == 200, r.text
    got = _input(r)
    # torchvision's PIL pipeline: resize the 8-bit image, then /255, then (x − mean) / std.
    small = np.asarray(Image.fromarray(photo).resize((16, 16), Image.BILINEAR), np.float32)
    small = np.moveaxis(small, -1, 0) * np.float32(1 / 255)
    want = (small - np.float32([0.5, 0.4, 0.3])[:, None, None]) / \
        np.float32([0.2, 0.25, 0.3])[:, None, None]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    e = client.post("/api/explain?model=tiny-rgb",
                    json={"image": data_url(photo, "RGB"), "layer": "conv", "unit": [1, 3, 4]})
    assert e.status_code == 200
    ex = e.json()
    assert ex["source"]["shape"][0] == 3 and ex["channels"] == [0, 1, 2]
    assert ex["sum"] == pytest.approx(ex["value"], rel=1e-5, abs=1e-6)


def test_wrong_size_without_preprocessing_names_the_sizes(client):
    body = {"pixels": [0] * 100, "width": 10, "height": 10, "preprocess": False}
    r = client.post("/api/forward?model=tiny-rgb", json=body)
    assert r.status_code == 422 and "16×16" in r.json()["detail"]


@pytest.mark.parametrize("bad,words", [
    ({"preprocess": "zoom"}, "supported: mnist, resize, none"),
    ({"mean": [0.5]}, "3 finite number"), ({"std": [1, 0, 1]}, "positive"),
    ({"preprocess": "mnist"}, "1×28×28"), ({"colour": True}, "unknown field")])
def test_bad_declarations_are_refused_with_their_fault(bad, words):
    from engine.errors import SpecError
    with pytest.raises(SpecError, match=words):
        check_declaration(bad, [3, 16, 16])


def test_blank_drawing_for_a_cropping_model_is_zero():
    decl = check_declaration({"crop": True, "pad": 2}, [1, 32, 32])
    x, pre = prepare(np.zeros((50, 50), np.float32), decl)
    assert x.shape == (1, 32, 32) and not x.any() and pre.blank


def test_a_normalised_digit_model_reads_its_mean_and_std(pad_drawing):
    """`convscope import --mean 0.1307 --std 0.3081` on a 1×28×28 net (torchvision's MNIST
    normalisation): the MNIST pipeline's centred digit, then (x − mean) / std, then the pad."""
    ink = pad_drawing[..., 3]
    for pad in (0, 2):
        decl = check_declaration({"preprocess": "mnist", "pad": pad, "mean": [0.1307],
                                  "std": [0.3081]}, [1, 28 + 2 * pad, 28 + 2 * pad])
        x, pre = prepare(ink, decl)
        centred = preprocess(ink).steps["centred"]
        want = np.pad((centred - np.float32(0.1307)) / np.float32(0.3081), pad)
        np.testing.assert_array_equal(x[0], want)
        np.testing.assert_array_equal(pre.steps["input"], want)
        assert x.dtype == np.float32 and x.min() < -0.4 and x.max() > 2
