"""ONNX -> ConvScope: a sequential graph of supported ops, walked from the input to the output.

Supported (anything else is refused naming the op, its node and this list):
  Conv                square kernel, equal strides, symmetric pads (explicit, or auto_pad SAME
                      where it pads every side alike), dilation 1, group 1
  Transpose           channels last, as Keras / TensorFlow (tf2onnx) write: the input's
                      (0, 3, 1, 2), and (0, 2, 3, 1) just before flattening, whose order the next
                      dense layer's weights are reordered to (said in the model's notes)
  Relu Tanh Sigmoid LeakyRelu
  MaxPool AveragePool square kernel, equal strides, no padding, ceil_mode 0
  GlobalAveragePool GlobalMaxPool   one window over the whole (square) map
  Flatten Reshape     maps -> one vector per image (a reshape of a vector to itself is dropped);
                      a target shape computed from the tensor's own size (`x.view(x.size(0),
                      -1)` exported with a dynamic batch: Shape, Gather, Unsqueeze, Concat ...)
                      is worked out from the known sizes, with a batch of 1
  Gemm, MatMul (+ Add) a dense layer (alpha, beta and transB honoured)
  Softmax             over the class axis
  LogSoftmax          the same softmax stage (the page shows p; the file's ln p is checked as
                      exp), said so in the model's notes: most course notebooks end in it
  BatchNormalization  folded into the conv/dense before it (said so in the model's notes)
  Dropout Identity    dropped (inference does nothing)

The reference is ONNX Runtime on the original file, with every stage's tensor added to the
graph's outputs, so each ConvScope stage is compared with the tensor it replaces.
"""
from __future__ import annotations

import os

import numpy as np

from engine.errors import ImportRefused
from engine.importers.common import Imported
from engine.importers.onnx_ops import Mapping
from engine.importers.onnx_shapes import attrs as _attrs, fold

SUPPORTED = ("Conv", "Relu", "Tanh", "Sigmoid", "LeakyRelu", "MaxPool", "AveragePool",
             "GlobalAveragePool", "GlobalMaxPool",
             "Flatten", "Reshape", "Gemm", "MatMul (+ Add)", "Softmax", "LogSoftmax",
             "BatchNormalization (folded)", "Dropout", "Identity",
             "Transpose (channels-last input / before flatten)")


def _need_onnx():
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise ImportRefused("importing ONNX needs the `onnx` package: pip install "
                            "'convscope[import]' (or pip install onnx onnxruntime)") from None
    return onnx, numpy_helper


class _Walk:
    def __init__(self, model, path: str):
        _, numpy_helper = _need_onnx()
        self.path = path
        self.graph = graph = model.graph
        self.const = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
        self.consumers: dict[str, list] = {}
        self.producer = {}
        for node in graph.node:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)
            for name in node.output:
                self.producer[name] = node
        self.sizes: dict[str, list[int]] = {}     # walked tensor -> its shape, batch 1 first
        # Constants made inside the graph (Constant nodes, Identity of an initializer: the
        # TorchScript exporter writes BatchNorm's statistics that way).
        for node in graph.node:
            if node.op_type == "Constant":
                value = _attrs(node).get("value")
                if value is not None:
                    self.const[node.output[0]] = numpy_helper.to_array(value)
            elif node.op_type == "Identity" and node.input[0] in self.const:
                self.const[node.output[0]] = self.const[node.input[0]]
        inputs = [i for i in graph.input if i.name not in self.const]
        if len(inputs) != 1:
            raise ImportRefused(f"{path}: the graph has {len(inputs)} inputs "
                                f"({', '.join(i.name for i in inputs)}); ConvScope imports "
                                f"graphs with exactly one image input")
        self.input = inputs[0]
        if len(graph.output) != 1:
            raise ImportRefused(f"{path}: the graph has {len(graph.output)} outputs; ConvScope "
                                f"imports graphs with one output")
        self.output = graph.output[0].name

    def fail(self, node, why: str):
        raise ImportRefused(f"{self.path}: node {node.name or '(unnamed)'!r} ({node.op_type}): "
                            f"{why}. Supported: {', '.join(SUPPORTED)}; sequential graphs only")

    def const_of(self, node, index: int, what: str):
        if index >= len(node.input) or not node.input[index]:
            return None
        name = node.input[index]
        if name not in self.const:
            self.fail(node, f"its {what} ({name!r}) is computed, not a stored constant")
        return self.const[name]

    def shape_value(self, node, index: int):
        """A Reshape's target: a stored constant, or a shape computation from the sizes of
        tensors already walked (Shape, Gather, Unsqueeze, Concat, ...), folded here."""
        if index >= len(node.input) or not node.input[index]:
            return None
        return fold(self, node.input[index], node)


    def next_node(self, tensor: str):
        # A Shape node reads only the tensor's size (for a Reshape's target), not its values.
        users = [n for n in self.consumers.get(tensor, []) if n.op_type not in ("Constant", "Shape")]
        if not users:
            return None
        if len(users) > 1:
            raise ImportRefused(
                f"{self.path}: tensor {tensor!r} feeds {len(users)} nodes "
                f"({', '.join(f'{n.name} ({n.op_type})' for n in users)}): ConvScope imports "
                f"sequential graphs only (no branches or skip connections)")
        return users[0]


def channels_last(walk) -> bool:
    """A Keras / TensorFlow export: the input is (N, H, W, C) and its first node a Transpose
    (0, 3, 1, 2) to channels first."""
    first = walk.next_node(walk.input.name)
    return (first is not None and first.op_type == "Transpose"
            and list(_attrs(first).get("perm", [])) == [0, 3, 1, 2])


def input_shape_of(walk, given=None, nhwc=False) -> list[int]:
    """[C, H, W] of one input (from the file's (N, C, H, W), or (N, H, W, C) when `nhwc`)."""
    dims = walk.input.type.tensor_type.shape.dim
    if given is not None:
        return [int(d) for d in given]
    order = "(N, H, W, C)" if nhwc else "(N, C, H, W)"
    if len(dims) != 4:
        raise ImportRefused(f"{walk.path}: input {walk.input.name!r} has {len(dims)} axes; "
                            f"expected {order}")
    shape = [d.dim_value if d.HasField("dim_value") else None for d in dims[1:]]
    if None in shape:
        raise ImportRefused(f"{walk.path}: input {walk.input.name!r} has symbolic sizes "
                            f"({[d.dim_param or d.dim_value for d in dims]}, {order}); give "
                            f"--input-shape C,H,W")
    return [shape[2], shape[0], shape[1]] if nhwc else shape


def read(path, input_shape=None) -> Imported:
    """Parse and map an ONNX file (ImportRefused naming what is not supported)."""
    onnx, _ = _need_onnx()
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ImportRefused(f"{path}: no such file")
    try:
        model = onnx.load(path, load_external_data=False)
        _load_weights_beside(onnx, model, path)
        onnx.checker.check_model(model)
    except ImportRefused:
        raise
    except Exception as exc:   # protobuf's DecodeError, onnx's ValidationError, ...
        raise ImportRefused(f"{path}: not a valid ONNX model ({type(exc).__name__}: "
                            f"{str(exc).splitlines()[0] if str(exc) else 'unreadable'})") from None
    walk = _Walk(model, path)
    nhwc = channels_last(walk)
    shape = input_shape_of(walk, input_shape, nhwc)
    m = Mapping(walk, shape, nhwc)
    tensor = walk.input.name
    walk.sizes[tensor] = [1, shape[1], shape[2], shape[0]] if nhwc else [1] + list(shape)
    while (node := walk.next_node(tensor)) is not None:
        handle = m.handler(node.op_type)
        if handle is None:
            walk.fail(node, "this op is not supported")
        m.size_now = None
        out = handle(node, _attrs(node), node.output[0], tensor)
        if m.checkpoints.get(m.spec[-1]["name"]) == out:     # a stage was added (or folded)
            m.cur_shape = _shape_after(m.spec, walk, node)
        tensor = out
        walk.sizes[tensor] = m.size_now or [1] + list(m.cur_shape)
    if tensor != walk.output:
        raise ImportRefused(f"{path}: the walk from the input ended at {tensor!r}, not the "
                            f"graph's output {walk.output!r}")
    if m.dropped:
        m.notes.append("Dropped (they do nothing at inference): " + ", ".join(m.dropped))
    return Imported("onnx", path, m.spec, m.params,
                    _reference(model, m.checkpoints, walk.input.name, m.transforms, nhwc),
                    m.notes, m.origin, m.stage_notes)


def _load_weights_beside(onnx, model, path):
    """Weights kept in a file of their own (torch.onnx.export's default `external_data`
    writes MODEL.onnx.data beside MODEL.onnx): read from beside the file, or refused saying
    which file is missing."""
    from onnx.external_data_helper import ExternalDataInfo, uses_external_data
    folder = os.path.dirname(os.path.abspath(path))
    wanted = sorted({ExternalDataInfo(t).location for t in model.graph.initializer
                     if uses_external_data(t)})
    missing = [w for w in wanted if not os.path.isfile(os.path.join(folder, w))]
    if missing:
        raise ImportRefused(f"{path}: its weights are stored in a separate file "
                            f"{', '.join(missing)} (torch.onnx.export writes it beside the "
                            f".onnx), not found in {folder}: keep the two files together")
    if wanted:
        onnx.load_external_data_for_model(model, folder)


def _shape_after(spec, walk, node):
    from engine.spec import infer_shapes
    try:
        return infer_shapes(spec)[-1]["shape"]
    except Exception as exc:
        walk.fail(node, f"the layers so far do not fit together ({exc})")


def _reference(model, checkpoints: dict[str, str], input_name: str, transforms=None,
               nhwc=False):
    """ONNX Runtime on the file, with every checkpoint tensor as an extra graph output;
    `transforms[stage]` turns the file's tensor into the stage's values (exp of a log-softmax,
    a channels-last flatten put in ConvScope's order); `nhwc`: the file reads (N, H, W, C)."""
    transforms = transforms or {}
    def run(x: np.ndarray) -> dict[str, np.ndarray]:
        try:
            import onnx
            import onnxruntime as ort
        except ImportError:
            raise ImportRefused("verifying an ONNX import needs onnxruntime: pip install "
                                "'convscope[import]' (or pip install onnxruntime)") from None
        probe = onnx.ModelProto()
        probe.CopyFrom(model)
        have = {o.name for o in probe.graph.output}
        for tensor in checkpoints.values():
            if tensor not in have:
                probe.graph.output.append(onnx.helper.make_empty_tensor_value_info(tensor))
                have.add(tensor)
        options = ort.SessionOptions()
        # No graph rewrites: each checkpoint must be the tensor the file computes, not a
        # fused one; and one thread (the machine is shared with the server).
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        options.intra_op_num_threads = 1
        names = list(dict.fromkeys(checkpoints.values()))
        try:
            session = ort.InferenceSession(probe.SerializeToString(), options,
                                           providers=["CPUExecutionProvider"])
            fed = x.transpose(0, 2, 3, 1) if nhwc else x
            outs = [session.run(names, {input_name: np.ascontiguousarray(fed[i:i + 1], np.float32)})
                    for i in range(len(x))]   # one at a time: a file may fix the batch at 1
        except Exception as exc:   # onnxruntime's own InvalidGraph, Fail, ...
            raise ImportRefused(f"ONNX Runtime cannot run the file to verify the import "
                                f"({type(exc).__name__}: {str(exc).splitlines()[0]})") from None
        by_tensor = {n: np.concatenate([o[j] for o in outs]) for j, n in enumerate(names)}
        return {stage: transforms[stage](by_tensor[t]) if stage in transforms else by_tensor[t]
                for stage, t in checkpoints.items()}
    return run
