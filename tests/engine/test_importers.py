"""convscope import: ONNX (against ONNX Runtime) and PyTorch (against PyTorch) on real small
architectures, every op mapping, BatchNorm folding, and every refusal worded (unsupported op
with its node, weights-only file, corrupt file, a stage that differs)."""
import json
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from app.cli import main  # noqa: E402
from engine.commands import import_model  # noqa: E402
from engine.errors import ImportRefused  # noqa: E402
from engine.importers import common, onnx_import, onnx_ops, torch_import  # noqa: E402
from engine.network import Network  # noqa: E402
from tests import import_nets as nets  # noqa: E402

KINDS = {
    "lenet5": ["input", "conv", "activation", "pool", "conv", "activation", "pool", "conv",
               "activation", "flatten", "dense", "activation", "dense", "softmax"],
    "convnetjs": ["input", "conv", "activation", "pool", "conv", "activation", "pool",
                  "flatten", "dense", "softmax"],
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("onnx")
    files = {}
    for name in nets.SHAPES:
        files[name] = folder / f"{name}.onnx"
        nets.export_onnx(nets.build(name), name, files[name])
    return files


@pytest.mark.parametrize("name", list(nets.SHAPES))
def test_onnx_import_equals_onnx_runtime_every_stage(name, exported, tmp_path):
    start = time.perf_counter()
    out = tmp_path / f"{name}.npz"
    net, checks, _ = import_model(exported[name], out, log=lambda _: None)
    seconds = time.perf_counter() - start
    assert all(c.relative <= 1e-5 for c in checks), common.report(checks)
    assert seconds < 30     # the figure (≤ 10 s) is reported by bench/import.py, not timed here
    loaded = Network.load(out)
    assert [s["shape"] for s in loaded.stages] == [s["shape"] for s in net.stages]
    # Independently of the importer's own check: the written file against PyTorch itself.
    x = nets.picture(name, seed=5)
    want = nets.build(name)(torch.from_numpy(x[None])).detach().numpy()[0]
    records = loaded.forward(x).records
    if name == "bn_dropout":
        # It ends on its logits: they are fc2, and ConvScope adds their softmax (--logits
        # would leave it out, as the page tests' copy does).
        assert records[-1].name == "softmax" and loaded.stages[-2]["name"] == "fc2"
        got = records[-2].values
        p = np.exp(want - want.max())
        np.testing.assert_allclose(records[-1].values, p / p.sum(), rtol=1e-5, atol=1e-7)
    else:
        got = records[-1].values
    assert np.abs(got - want).max() <= 1e-5 * max(1e-6, np.abs(want).max())
    if name in KINDS:
        assert [s["kind"] for s in loaded.stages] == KINDS[name]
    if name == "convnetjs":
        assert loaded.stages[6]["shape"] == [16, 4, 4]      # pool 3 on 14: floored
    if name == "lenet5":
        assert loaded.stages[1]["padding"] == 2 and loaded.stages[3]["op"] == "avg"
        assert loaded.metadata["input"]["preprocess"] == "mnist"
        assert loaded.metadata["input"]["pad"] == 0         # 28×28: the conv pads instead
    if name == "tinyvgg":
        assert loaded.stages[0]["shape"] == [3, 64, 64]
        assert loaded.metadata["input"]["preprocess"] == "resize"
    if name == "bn_dropout":
        notes = " ".join(loaded.metadata["notes"])
        assert notes.count("folded into") == 3 and "fc1" in notes
        # The model card reads as sentences, each naming the kind it folded into.
        assert all(n.endswith(".") for n in loaded.metadata["notes"])
        assert "the conv layer's" in notes and "fc1: its weights and bias are the dense layer's" in notes
        told = loaded.metadata["imported"]["stages"]
        assert sorted(told) == ["conv1", "conv2", "fc1", "softmax"] and "folded into conv2" in told["conv2"]
        assert loaded.stages[1]["stride"] == 2 and loaded.stages[-2]["kind"] == "dense"
        assert "ConvScope adds that softmax" in loaded.metadata["imported"]["stages"]["softmax"]
        assert loaded.stages[2]["function"] == "leaky_relu" and loaded.stages[2]["alpha"] == 0.1


def test_batchnorm_fold_is_exact_against_pytorch():
    rng = np.random.default_rng(0)
    conv = torch.nn.Conv2d(3, 4, 3)
    bn = torch.nn.BatchNorm2d(4, eps=1e-3).eval()
    bn.running_mean.copy_(torch.randn(4))
    bn.running_var.copy_(torch.rand(4) + 0.1)
    bn.weight.data.copy_(torch.randn(4))
    bn.bias.data.copy_(torch.randn(4))
    w, b = common.fold_batchnorm(conv.weight.detach().numpy(), conv.bias.detach().numpy(),
                                 bn.weight.detach().numpy(), bn.bias.detach().numpy(),
                                 bn.running_mean.numpy(), bn.running_var.numpy(), 1e-3)
    x = torch.from_numpy(rng.standard_normal((2, 3, 8, 8)).astype(np.float32))
    want = bn(conv(x)).detach().numpy()
    got = torch.nn.functional.conv2d(x, torch.from_numpy(w), torch.from_numpy(b)).numpy()
    assert np.abs(got - want).max() <= 1e-5 * np.abs(want).max()


@pytest.mark.parametrize("name", ["lenet5", "bn_dropout", "tinyvgg"])
def test_torch_whole_sequential_equals_pytorch(name, tmp_path):
    path = tmp_path / f"{name}.pt"
    torch.save(nets.build(name), path)
    imported = torch_import.read(path, input_shape=nets.SHAPES[name])
    _, checks, _ = common.verify(imported)
    assert all(c.ok for c in checks), common.report(checks)
    assert ("folded into" in " ".join(imported.notes)) == (name == "bn_dropout")


def test_torch_state_dict_with_spec(tmp_path):
    path = tmp_path / "bn.pth"
    torch.save(nets.build("bn_dropout").state_dict(), path)
    spec = [{"name": "input", "kind": "input", "shape": [1, 28, 28]},
            {"name": "conv1", "kind": "conv", "filters": 8, "kernel": 3, "stride": 2,
             "padding": 1},
            {"name": "lrelu1", "kind": "activation", "function": "leaky_relu", "alpha": 0.1},
            {"name": "conv2", "kind": "conv", "filters": 16, "kernel": 3, "padding": 1},
            {"name": "relu1", "kind": "activation", "function": "relu"},
            {"name": "pool1", "kind": "pool", "window": 2},
            {"name": "flatten", "kind": "flatten"},
            {"name": "fc1", "kind": "dense", "units": 32},
            {"name": "relu2", "kind": "activation", "function": "relu"},
            {"name": "fc2", "kind": "dense", "units": 10}]
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec))
    out = tmp_path / "bn.npz"
    net, checks, _ = import_model(path, out, spec_file=spec_file, log=lambda _: None)
    assert all(c.ok for c in checks)
    # The state_dict import equals the whole-module import of the same net.
    x = nets.picture("bn_dropout", 2)
    want = nets.build("bn_dropout")(torch.from_numpy(x[None])).detach().numpy()[0]
    np.testing.assert_allclose(net.forward(x)["fc2"].values, want, rtol=1e-5, atol=1e-6)
    told = Network.load(out).metadata["imported"]["stages"]
    assert sorted(told) == ["conv1", "conv2", "fc1", "softmax"] and "BatchNorm '5' is folded into conv2" in told["conv2"]


def test_weights_only_file_without_spec_says_what_to_give(tmp_path):
    path = tmp_path / "weights.pth"
    torch.save(nets.build("convnetjs").state_dict(), path)
    with pytest.raises(ImportRefused, match=r"holds only weights \(a state_dict: 0.weight.*"
                                            r"--spec FILE"):
        torch_import.read(path)


@pytest.mark.parametrize("suffix,words", [(".onnx", "not a valid ONNX model"),
                                          (".pt", "not a readable PyTorch file")])
def test_corrupt_files_are_refused_with_a_message(suffix, words, tmp_path):
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(b"\x08\x07 this is not a model \xff\x00" * 10)
    out = tmp_path / "never.npz"
    with pytest.raises(ImportRefused, match=words):
        import_model(path, out, log=lambda _: None)
    assert not out.exists()


# ---- hand-made ONNX graphs: every op mapping, every refusal -------------------------------

def _graph(nodes, inits, in_shape, out_rank=4, opset=17):
    inits = [numpy_helper.from_array(np.asarray(v, np.int64 if k == "shape" else np.float32), k)
             for k, v in inits.items()]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                     [1] + list(in_shape))],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                                         [None] * out_rank)],
                          inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def _save(model, tmp_path, name="m.onnx"):
    path = tmp_path / name
    onnx.save(model, path)
    return path


def test_every_onnx_op_mapping_against_onnx_runtime(tmp_path):
    rng = np.random.default_rng(3)
    inits = {"w1": rng.standard_normal((4, 2, 3, 3)), "b1": rng.standard_normal(4),
             "g": rng.random(4) + 0.5, "be": rng.standard_normal(4), "mu": rng.standard_normal(4),
             "var": rng.random(4) + 0.2, "shape": np.array([1, -1]),
             "w2": rng.standard_normal((36, 5)), "b2": rng.standard_normal(5),
             "w3": rng.standard_normal((5, 6)), "b3": rng.standard_normal(6),
             "w4": rng.standard_normal((6, 3)), "b4": rng.standard_normal(3)}
    inits["shape"] = np.array([1, -1])
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c"], name="conv", pads=[1, 1, 1, 1],
                         strides=[2, 2]),
        helper.make_node("BatchNormalization", ["c", "g", "be", "mu", "var"], ["bn"], name="bn",
                         epsilon=1e-3),
        helper.make_node("LeakyRelu", ["bn"], ["l"], name="leaky", alpha=0.2),
        helper.make_node("AveragePool", ["l"], ["p"], name="avg", kernel_shape=[2, 2],
                         strides=[1, 1]),
        helper.make_node("Sigmoid", ["p"], ["s"], name="sig"),
        helper.make_node("MaxPool", ["s"], ["mp"], name="max", kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("Dropout", ["mp"], ["d"], name="drop"),
        helper.make_node("Reshape", ["d", "shape"], ["r"], name="reshape"),
        helper.make_node("MatMul", ["r", "w2"], ["mm"], name="matmul"),
        helper.make_node("Add", ["mm", "b2"], ["a"], name="add"),
        helper.make_node("Tanh", ["a"], ["t"], name="tanh"),
        helper.make_node("Gemm", ["t", "w3", "b3"], ["gm"], name="gemm", alpha=0.5, beta=2.0),
        helper.make_node("Relu", ["gm"], ["rl"], name="relu"),
        helper.make_node("Identity", ["rl"], ["id"], name="ident"),
        helper.make_node("Gemm", ["id", "w4", "b4"], ["g2"], name="gemm2"),
        helper.make_node("Softmax", ["g2"], ["y"], name="softmax", axis=1),
    ]
    # (x 2×13×13) conv s2 p1 -> 4×7×7, avg 2/1 -> 6×6, max 2/2 -> 3×3: 36 -> 5 -> 6 -> 3
    path = _save(_graph(nodes, inits, [2, 13, 13], out_rank=2), tmp_path)
    imported = onnx_import.read(path)
    kinds = [(s["kind"], s.get("function") or s.get("op")) for s in imported.spec]
    assert kinds == [("input", None), ("conv", None), ("activation", "leaky_relu"),
                     ("pool", "avg"), ("activation", "sigmoid"), ("pool", "max"),
                     ("flatten", None), ("dense", None), ("activation", "tanh"),
                     ("dense", None), ("activation", "relu"), ("dense", None),
                     ("softmax", None)]
    _, checks, _ = common.verify(imported)
    assert all(c.ok for c in checks), common.report(checks)
    assert "bn" in " ".join(imported.notes) and "drop (Dropout)" in " ".join(imported.notes)
    assert "matmul (MatMul) + add (Add)" in imported.origin.values()


@pytest.mark.parametrize("node,inits,words", [
    (helper.make_node("Conv", ["x", "w"], ["y"], name="grouped", group=2),
     {"w": np.ones((2, 1, 3, 3))}, r"'grouped' \(Conv\): group=2"),
    (helper.make_node("Conv", ["x", "w"], ["y"], name="lopsided", pads=[0, 0, 1, 1]),
     {"w": np.ones((2, 2, 3, 3))}, r"'lopsided' \(Conv\): pads \[0, 0, 1, 1\].*asymmetric"),
    (helper.make_node("Conv", ["x", "w"], ["y"], name="wide"),
     {"w": np.ones((2, 2, 3, 1))}, r"'wide' \(Conv\): kernel \[3, 1\] is not square"),
    (helper.make_node("MaxPool", ["x"], ["y"], name="ceil", kernel_shape=[2, 2], ceil_mode=1),
     {}, r"'ceil' \(MaxPool\): ceil_mode=1"),
    (helper.make_node("LRN", ["x"], ["y"], name="lrn", size=3), {},
     r"'lrn' \(LRN\): this op is not supported\. Supported: Conv, Relu"),
    (helper.make_node("Upsample", ["x", "sc"], ["y"], name="up", mode="nearest"),
     {"sc": np.array([1, 1, 2, 2])}, r"'up' \(Upsample\): this op is not supported"),
])
def test_unsupported_ops_are_named_with_their_node(node, inits, words, tmp_path):
    opset = 9 if node.op_type == "Upsample" else 17
    path = _save(_graph([node], inits, [2, 8, 8], opset=opset), tmp_path)
    with pytest.raises(ImportRefused, match=words):
        onnx_import.read(path)


def test_a_branching_graph_is_refused_naming_the_nodes(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="left"),
             helper.make_node("Sigmoid", ["x"], ["b"], name="right"),
             helper.make_node("Add", ["a", "b"], ["y"], name="join")]
    path = _save(_graph(nodes, {}, [1, 4, 4]), tmp_path)
    with pytest.raises(ImportRefused, match=r"feeds 2 nodes \(left \(Relu\), right \(Sigmoid\)\)"
                                            r".*sequential graphs only"):
        onnx_import.read(path)


def test_unsupported_torch_module_is_named(tmp_path):
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.GELU())
    path = tmp_path / "gelu.pt"
    torch.save(net, path)
    with pytest.raises(ImportRefused, match=r"module '1' \(GELU\) is not supported\. "
                                            r"Supported: Conv2d"):
        torch_import.read(path, input_shape=[1, 8, 8])


def test_a_stage_that_differs_is_refused_with_the_worst_difference(exported, tmp_path,
                                                                    monkeypatch):
    # Break the folding: the conv keeps its unnormalised weights, so conv1 (and all after it)
    # differ from ONNX Runtime; nothing is written and the table names each stage.
    monkeypatch.setattr(onnx_ops, "fold_batchnorm", lambda w, b, *_: (w, b))
    out = tmp_path / "never.npz"
    with pytest.raises(ImportRefused) as info:
        import_model(exported["bn_dropout"], out, log=lambda _: None)
    text = str(info.value)
    assert "stage(s) conv1" in text and "DIFFERS" in text and "nothing written" in text
    assert not out.exists()


def test_cli_import_writes_a_model_and_prints_the_table(exported, tmp_path, capsys):
    out = tmp_path / "lenet5.npz"
    code = main(["import", str(exported["lenet5"]), "--out", str(out),
                 "--classes", ",".join("zero one two three four five six seven eight nine"
                                       .split())])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "every stage equals ONNX Runtime" in captured.err and "softmax" in captured.err
    assert Network.load(out).metadata["classes"][3] == "three"
    assert main(["import", str(exported["lenet5"]), "--out", str(out),
                 "--classes", "a,b"]) == 2
    assert "--classes lists 2 names but the model has 10 outputs" in capsys.readouterr().err


def test_import_label_is_what_the_model_selector_shows(exported, tmp_path, capsys):
    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.main import create_app
    out = tmp_path / "week3.npz"
    assert main(["import", str(exported["lenet5"]), "--out", str(out),
                 "--label", "  Week 3 ·  my LeNet-5 "]) == 0
    assert Network.load(out).metadata["label"] == "Week 3 · my LeNet-5"
    with TestClient(create_app(Settings(model_path=out, extra_models=()))) as c:
        entry = c.get("/api/models").json()[0]
    assert entry["id"] == "week3" and entry["label"] == "Week 3 · my LeNet-5"
    assert main(["import", str(exported["lenet5"]), "--out", str(tmp_path / "x.npz"),
                 "--label", "x" * 61]) == 2
    assert "--label: 61 characters; give 1 to 60" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()


# --------------------------------------------------------------- what course notebooks write
class NotebookNet(torch.nn.Module):
    """The LeNet of a typical course notebook: functional ReLU and pooling in forward(),
    `x.view(x.size(0), -1)`, and `F.log_softmax` at the end (for nn.NLLLoss)."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = torch.nn.Conv2d(6, 16, 5)
        self.fc1 = torch.nn.Linear(16 * 5 * 5, 120)
        self.fc2 = torch.nn.Linear(120, 10)

    def forward(self, x):
        F = torch.nn.functional
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(x.size(0), -1)
        return F.log_softmax(self.fc2(F.relu(self.fc1(x))), dim=1)


def test_a_course_notebook_net_with_a_dynamic_batch_and_log_softmax_imports(tmp_path):
    torch.manual_seed(4)
    net = NotebookNet().eval()
    path = tmp_path / "notebook.onnx"
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (torch.zeros(1, 1, 28, 28),), str(path), dynamo=False,
                          input_names=["x"], dynamic_axes={"x": {0: "batch"}})
    ops = [n.op_type for n in onnx.load(path).graph.node]
    assert "Shape" in ops and "Gather" in ops and ops[-1] == "LogSoftmax", ops  # the pattern
    out = tmp_path / "notebook.npz"
    net_cs, checks, _ = import_model(path, out, log=lambda _: None)
    assert all(c.ok for c in checks), common.report(checks)
    loaded = Network.load(out)
    assert [s["kind"] for s in loaded.stages][-3:] == ["activation", "dense", "softmax"]
    assert loaded.stages[7]["kind"] == "flatten" and loaded.stages[7]["shape"] == [400]
    x = np.random.default_rng(1).random((1, 28, 28), dtype=np.float32)
    want = np.exp(net(torch.from_numpy(x[None])).detach().numpy()[0])   # p = exp(ln p)
    got = loaded.forward(x).records[-1].values
    assert np.abs(got - want).max() <= 1e-5 * np.abs(want).max()
    assert any("LogSoftmax" in n and "exp" in n for n in loaded.metadata["notes"])
    told = loaded.metadata["imported"]["stages"]
    assert list(told) == ["softmax"] and "ln p(i) = zᵢ − max z" in told["softmax"]


def test_a_reshape_target_computed_from_the_size_is_folded_or_refused_by_name(tmp_path):
    rng = np.random.default_rng(2)
    inits = {"w": rng.standard_normal((8, 3)), "zero": np.array([0]), "minus": np.array([-1])}
    shape_nodes = [
        helper.make_node("Shape", ["x"], ["s"], name="size"),
        helper.make_node("Gather", ["s", "zero"], ["n"], name="batch", axis=0),
        helper.make_node("Concat", ["n", "minus"], ["target"], name="cat", axis=0),
        helper.make_node("Reshape", ["x", "target"], ["f"], name="view"),
        helper.make_node("MatMul", ["f", "w"], ["y"], name="fc")]
    g = _graph(shape_nodes, {}, [2, 2, 2], out_rank=2, opset=17)
    for k, v in inits.items():
        g.graph.initializer.append(numpy_helper.from_array(
            np.asarray(v, np.int64 if k != "w" else np.float32), k))
    imported = onnx_import.read(_save(g, tmp_path))
    assert [s["kind"] for s in imported.spec] == ["input", "flatten", "dense"]
    _, checks, _ = common.verify(imported)
    assert all(c.ok for c in checks), common.report(checks)
    # A target from an op that is no shape computation is refused naming the Reshape and it.
    g.graph.node[2].CopyFrom(helper.make_node("Range", ["n", "minus", "zero"], ["target"],
                                              name="ranged"))
    with pytest.raises(ImportRefused, match=r"'view' \(Reshape\): its target shape comes from "
                                            r"'ranged' \(Range\)"):
        onnx_import.read(_save(g, tmp_path, "ranged.onnx"))


def test_weights_in_a_file_beside_the_onnx_are_read_and_a_missing_one_is_named(tmp_path,
                                                                                  exported):
    model = onnx.load(exported["convnetjs"])
    path = tmp_path / "split.onnx"
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="split.onnx.data", size_threshold=0)
    assert (tmp_path / "split.onnx.data").stat().st_size > path.stat().st_size
    _, checks, _ = common.verify(onnx_import.read(path))
    assert all(c.ok for c in checks), common.report(checks)
    (tmp_path / "split.onnx.data").unlink()
    with pytest.raises(ImportRefused, match=r"weights are stored in a separate file "
                                            r"split\.onnx\.data .*keep the two files together"):
        onnx_import.read(path)


def test_torch_sequential_ending_in_log_softmax_shows_probabilities(tmp_path):
    torch.manual_seed(6)
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(4 * 5 * 5, 10), nn.LogSoftmax(dim=1)).eval()
    path = tmp_path / "seq.pt"
    torch.save(net, path)
    imported = torch_import.read(path, input_shape=[1, 12, 12])
    assert imported.spec[-1]["kind"] == "softmax"
    model, checks, _ = common.verify(imported)
    assert all(c.ok for c in checks), common.report(checks)
    x = np.random.default_rng(0).random((1, 12, 12), dtype=np.float32)
    p = model.forward(x).records[-1].values
    assert np.allclose(p, np.exp(net(torch.from_numpy(x[None])).detach().numpy()[0]), atol=1e-6)
    assert p.sum() == pytest.approx(1, abs=1e-5)
    assert "ends in LogSoftmax" in imported.stage_notes["softmax"]


def test_a_pickled_model_whose_class_code_is_gone_says_what_to_do(tmp_path, monkeypatch):
    import importlib
    import sys
    (tmp_path / "coursework_net.py").write_text(
        "import torch\nclass Net(torch.nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n"
        "        self.fc = torch.nn.Linear(4, 2)\n"
        "    def forward(self, x):\n        return self.fc(x.flatten(1))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("coursework_net")
    path = tmp_path / "whole.pt"
    torch.save(module.Net(), path)
    monkeypatch.delitem(sys.modules, "coursework_net")
    (tmp_path / "coursework_net.py").unlink()
    with pytest.raises(ImportRefused, match=r"a whole model of your own class, whose code is not "
                                            r"here .*coursework_net.*torch\.onnx\.export.*"
                                            r"--spec FILE"):
        torch_import.read(path, input_shape=[1, 2, 2])


def _keras_like_graph(rng, *, same_pads=True, dense_as="matmul"):
    """What tf2onnx writes for a small Keras CNN: the input (N, H, W, C), a Transpose to
    channels first, Conv (auto_pad SAME_UPPER) + Relu + MaxPool, a Transpose back to channels
    last, the Flatten as Reshape, then MatMul + Add (or Gemm) and Softmax."""
    w = rng.standard_normal((4, 2, 3, 3)).astype(np.float32)
    dense = rng.standard_normal((4 * 4 * 4, 5)).astype(np.float32)
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "b"),
             numpy_helper.from_array(np.array([-1, 64], np.int64), "flat"),
             numpy_helper.from_array(dense, "dw"), numpy_helper.from_array(rng.standard_normal(5).astype(np.float32), "db")]
    conv = (helper.make_node("Conv", ["nchw", "w", "b"], ["c"], name="conv2d", auto_pad="SAME_UPPER")
            if same_pads else helper.make_node("Conv", ["nchw", "w", "b"], ["c"], name="conv2d", pads=[1, 1, 1, 1]))
    nodes = [helper.make_node("Transpose", ["x"], ["nchw"], name="to_nchw", perm=[0, 3, 1, 2]), conv,
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("MaxPool", ["r"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Transpose", ["p"], ["nhwc"], name="to_nhwc", perm=[0, 2, 3, 1]),
             helper.make_node("Reshape", ["nhwc", "flat"], ["f"], name="flatten")]
    if dense_as == "matmul":
        nodes += [helper.make_node("MatMul", ["f", "dw"], ["m"], name="dense"),
                  helper.make_node("Add", ["m", "db"], ["z"], name="bias")]
    else:
        nodes += [helper.make_node("Gemm", ["f", "dw", "db"], ["z"], name="dense")]
    nodes.append(helper.make_node("Softmax", ["z"], ["y"], name="softmax", axis=-1))
    g = helper.make_graph(nodes, "keras", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 8, 8, 2])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 5])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


@pytest.mark.parametrize("dense_as", ["matmul", "gemm"])
def test_a_keras_channels_last_export_imports_channels_first(tmp_path, dense_as):
    import onnxruntime as ort
    rng = np.random.default_rng(8)
    path = _save(_keras_like_graph(rng, dense_as=dense_as), tmp_path)
    imported = onnx_import.read(path)
    assert imported.spec[0]["shape"] == [2, 8, 8]                     # C, H, W
    assert [s["kind"] for s in imported.spec] == ["input", "conv", "activation", "pool", "flatten",
                                                  "dense", "softmax"]
    assert imported.spec[1]["padding"] == 1                            # SAME for a 3×3, stride 1
    model, checks, _ = common.verify(imported)
    assert all(c.ok for c in checks), common.report(checks)
    # Independently: ConvScope on a channels-first image equals ONNX Runtime on it channels last.
    x = rng.random((2, 8, 8), dtype=np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    want = session.run(None, {"x": x.transpose(1, 2, 0)[None]})[0][0]
    assert np.abs(model.forward(x).records[-1].values - want).max() <= 1e-6
    notes = " ".join(imported.notes)
    assert "channels last (N, H, W, C" in notes and "fc1's weights are reordered" in notes
    assert "flattens the maps channels last" in imported.stage_notes["flatten"]


def test_channels_last_refusals_name_the_transpose_and_the_padding(tmp_path):
    rng = np.random.default_rng(9)
    m = _keras_like_graph(rng)
    m.graph.node[4].CopyFrom(helper.make_node("Transpose", ["p"], ["nhwc"], name="odd", perm=[0, 1, 3, 2]))
    with pytest.raises(ImportRefused, match=r"'odd' \(Transpose\): perm \[0, 1, 3, 2\]: only a "
                                            r"channels-last input's Transpose"):
        onnx_import.read(_save(m, tmp_path, "odd.onnx"))
    m = _keras_like_graph(rng)
    m.graph.node[1].CopyFrom(helper.make_node("Conv", ["nchw", "w", "b"], ["c"], name="even",
                                              auto_pad="SAME_UPPER", strides=[2, 2]))
    with pytest.raises(ImportRefused, match=r"'even' \(Conv\): auto_pad SAME_UPPER pads \[1, 1\] "
                                            r"in total .*pads every side alike"):
        onnx_import.read(_save(m, tmp_path, "even.onnx"))


@pytest.mark.parametrize("pool,window", [(torch.nn.AdaptiveAvgPool2d((1, 1)), 8),
                                         (torch.nn.AdaptiveMaxPool2d(2), 4),
                                         (torch.nn.AdaptiveAvgPool2d((None, 4)), None)])
def test_torch_adaptive_pool_is_the_fixed_window_it_is(tmp_path, pool, window):
    """Global average pooling (AdaptiveAvgPool2d(1), the usual end of a modern small CNN) and
    any output size that divides the map import as a fixed window; others are refused."""
    torch.manual_seed(3)
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), pool, nn.Flatten(),
                        nn.LazyLinear(4)).eval()
    net(torch.zeros(1, 3, 8, 8))                          # sizes the lazy layer
    path = tmp_path / "adaptive.pt"
    torch.save(net, path)
    if window is None:
        with pytest.raises(ImportRefused, match=r"module '2' \(AdaptiveAvgPool2d\): output size "
                                                r"\(8, 4\) of a 8×8 map is not one square window"):
            torch_import.read(path, input_shape=[3, 8, 8])
        return
    imported = torch_import.read(path, input_shape=[3, 8, 8])
    assert imported.spec[3]["window"] == imported.spec[3]["stride"] == window
    model, checks, _ = common.verify(imported)
    assert all(c.ok for c in checks), common.report(checks)
    x = np.random.default_rng(1).random((3, 8, 8), dtype=np.float32)
    want = net(torch.from_numpy(x[None])).detach().numpy()[0]
    assert np.abs(model.forward(x).records[-1].values - want).max() <= 1e-5


@pytest.mark.parametrize("sigmoid", [True, False])
def test_a_one_output_binary_classifier_shows_its_two_classes(tmp_path, sigmoid):
    """Linear(…, 1) (+ Sigmoid): BCELoss / BCEWithLogitsLoss nets. The page needs class scores:
    two outputs −z/2, z/2 whose softmax is exactly (1 − σ(z), σ(z)), checked against PyTorch
    and, through ONNX, against ONNX Runtime."""
    torch.manual_seed(5)
    nn = torch.nn
    layers = [nn.Conv2d(1, 4, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 12 * 12, 1)]
    net = nn.Sequential(*layers, *([nn.Sigmoid()] if sigmoid else [])).eval()
    x = np.random.default_rng(2).random((1, 28, 28), dtype=np.float32)
    z = nn.Sequential(*layers)(torch.from_numpy(x[None])).item()
    p1 = 1 / (1 + np.exp(-z))
    torch.save(net, tmp_path / "binary.pt")
    onnx_path = tmp_path / "binary.onnx"
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (torch.zeros(1, 1, 28, 28),), str(onnx_path), dynamo=False)
    for source, extra in ((tmp_path / "binary.pt", ["--input-shape", "1,28,28"]), (onnx_path, [])):
        out = tmp_path / f"{source.suffix[1:]}.npz"
        assert main(["import", str(source), "--out", str(out), "--classes", "not a seven,seven",
                     *extra]) == 0
        loaded = Network.load(out)
        assert [s["kind"] for s in loaded.stages][-2:] == ["dense", "softmax"]
        assert loaded.stages[-2]["shape"] == [2] and loaded.metadata["classes"] == ["not a seven", "seven"]
        rec = loaded.forward(x)
        assert np.allclose(rec[loaded.stages[-2]["name"]].values, [-z / 2, z / 2], atol=1e-5)
        assert np.allclose(rec.records[-1].values, [1 - p1, p1], atol=1e-6)
        assert "binary classifier" in " ".join(loaded.metadata["notes"])
        assert "softmax" in loaded.metadata["imported"]["stages"]


@pytest.mark.parametrize("op", ["GlobalAveragePool", "GlobalMaxPool"])
def test_onnx_global_pooling_is_one_window_over_the_map(tmp_path, op):
    """What torch exports for AdaptiveAvgPool2d(1) / AdaptiveMaxPool2d(1)."""
    rng = np.random.default_rng(4)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node(op, ["c"], ["g"], name="gap"),
             helper.make_node("Flatten", ["g"], ["f"], name="flat"),
             helper.make_node("Gemm", ["f", "dw"], ["y"], name="fc", transB=1)]
    path = _save(_graph(nodes, {"w": rng.standard_normal((3, 2, 3, 3)), "dw": rng.standard_normal((4, 3))},
                        [2, 6, 6], out_rank=2), tmp_path)
    imported = onnx_import.read(path)
    assert imported.spec[2] == {"name": "pool1", "kind": "pool", "op": "max" if "Max" in op else "avg",
                                "window": 6, "stride": 6}
    _, checks, _ = common.verify(imported)
    assert all(c.ok for c in checks), common.report(checks)


def test_a_net_ending_on_its_logits_gains_its_softmax_unless_logits_is_asked(tmp_path):
    """Most PyTorch classifiers stop at the last Linear (CrossEntropyLoss applies the softmax):
    the page's class probabilities need it, so it is added as a stage; --logits keeps the file
    as it is."""
    torch.manual_seed(7)
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(4 * 7 * 7, 3)).eval()
    path = tmp_path / "logits.pt"
    torch.save(net, path)
    x = np.random.default_rng(3).random((3, 16, 16), dtype=np.float32)
    z = net(torch.from_numpy(x[None])).detach().numpy()[0].astype(np.float64)
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    added, kept = tmp_path / "added.npz", tmp_path / "kept.npz"
    assert main(["import", str(path), "--out", str(added), "--input-shape", "3,16,16"]) == 0
    assert main(["import", str(path), "--out", str(kept), "--input-shape", "3,16,16",
                 "--logits"]) == 0
    a, k = Network.load(added), Network.load(kept)
    assert [s["kind"] for s in a.stages][-2:] == ["dense", "softmax"]
    assert k.stages[-1]["kind"] == "dense"
    np.testing.assert_allclose(a.forward(x)["fc1"].values, z, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a.forward(x).records[-1].values, p, rtol=1e-5, atol=1e-7)
    assert a.metadata["imported"]["origin"]["softmax"] == "added by ConvScope: softmax of fc1"
    assert "ConvScope adds that softmax" in a.metadata["imported"]["stages"]["softmax"]
    assert "--logits" in " ".join(a.metadata["notes"])
    assert "softmax" not in k.metadata["imported"]["stages"]
