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
from engine.importers.common import (Imported, Namer, fold_batchnorm, folded_note,
                                     log_softmax_note)
from engine.importers.onnx_shapes import attrs as _attrs, fold

SUPPORTED = ("Conv", "Relu", "Tanh", "Sigmoid", "LeakyRelu", "MaxPool", "AveragePool",
             "GlobalAveragePool", "GlobalMaxPool",
             "Flatten", "Reshape", "Gemm", "MatMul (+ Add)", "Softmax", "LogSoftmax",
             "BatchNormalization (folded)", "Dropout", "Identity",
             "Transpose (channels-last input / before flatten)")
_ACTIVATIONS = {"Relu": "relu", "Tanh": "tanh", "Sigmoid": "sigmoid", "LeakyRelu": "leaky_relu"}


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


def _square(walk, node, values, what):
    values = list(values)
    if len(set(values)) != 1:
        walk.fail(node, f"{what} {values} is not square; ConvScope draws square windows")
    return int(values[0])


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


def _same_pads(walk, node, auto_pad, size, k, stride):
    """auto_pad SAME_UPPER / SAME_LOWER as one padding on every side, or refused: the output
    is ceil(n / s), the total padding (out − 1)·s + k − n, split evenly only when even."""
    pads = []
    for n in size:
        total = max((-(-n // stride) - 1) * stride + k - n, 0)
        pads.append(total)
    if len(set(pads)) != 1 or pads[0] % 2:
        walk.fail(node, f"auto_pad {auto_pad} pads {pads} in total (height, width): not the "
                        f"same even amount on every side; ConvScope pads every side alike")
    return pads[0] // 2


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
    name = Namer()
    spec = [{"name": "input", "kind": "input", "shape": shape}]
    params: dict = {}
    notes: list[str] = []
    origin: dict[str, str] = {}
    checkpoints = {}          # stage -> ONNX tensor it must equal
    cur_shape = list(shape)
    tensor = walk.input.name
    dropped = []
    transforms = {}           # stage -> how the file's tensor becomes the stage's values
    stage_notes: dict[str, str] = {}
    walk.sizes[tensor] = [1, shape[1], shape[2], shape[0]] if nhwc else [1] + list(shape)
    flat_hwc = None           # (C, H, W) maps flattened channels last by the file
    reorder = None            # ... whose order the next dense layer's weights must take

    def emit(stage, node, out_tensor):
        spec.append(stage)
        origin[stage["name"]] = f"{node.name} ({node.op_type})"
        checkpoints[stage["name"]] = out_tensor

    while True:
        node = walk.next_node(tensor)
        if node is None:
            break
        op, a = node.op_type, _attrs(node)
        out = node.output[0]
        size_now = None       # the tensor's size when it is not the stage's (channels last)
        if op in ("Dropout", "Identity"):
            dropped.append(f"{node.name} ({op})")
        elif op == "Transpose":
            perm = list(a.get("perm", []))
            follow = walk.next_node(out)
            if tensor == walk.input.name and perm == [0, 3, 1, 2]:
                notes.append(f"The model reads its input channels last (N, H, W, C, as Keras and "
                             f"TensorFlow do); its Transpose {node.name!r} makes it channels "
                             f"first, as ConvScope shows it: {'×'.join(map(str, shape))}.")
            elif (perm == [0, 2, 3, 1] and len(cur_shape) == 3 and follow is not None
                  and follow.op_type in ("Flatten", "Reshape")):
                flat_hwc = tuple(cur_shape)
                c, h, w_ = cur_shape
                size_now = [1, h, w_, c]
            else:
                walk.fail(node, f"perm {perm}: only a channels-last input's Transpose (0, 3, 1, "
                                f"2) and channels last just before flattening (0, 2, 3, 1) are "
                                f"supported")
        elif op == "Conv":
            w = walk.const_of(node, 1, "weight")
            b = walk.const_of(node, 2, "bias")
            if w is None or w.ndim != 4:
                walk.fail(node, "a 2-D convolution needs a 4-D weight initializer")
            if a.get("group", 1) != 1:
                walk.fail(node, f"group={a['group']}: grouped/depthwise convolutions are not "
                                f"supported (groups=1 only)")
            if any(d != 1 for d in a.get("dilations", [1, 1])):
                walk.fail(node, f"dilations {a['dilations']}: only dilation 1 is supported")
            auto_pad = a.get("auto_pad", b"NOTSET")
            auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad
            k = _square(walk, node, w.shape[2:], "kernel")
            stride = _square(walk, node, a.get("strides", [1, 1]), "strides")
            pads = list(a.get("pads", [0, 0, 0, 0]))
            if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
                pads = [_same_pads(walk, node, auto_pad, cur_shape[1:], k, stride)] * 4
            elif auto_pad == "VALID":
                pads = [0, 0, 0, 0]
            elif auto_pad != "NOTSET":
                walk.fail(node, f"auto_pad {auto_pad!r} is not an ONNX padding mode")
            if len(set(pads)) != 1:
                walk.fail(node, f"pads {pads} (top, left, bottom, right) are asymmetric; "
                                f"ConvScope pads every side alike")
            stage = {"name": name("conv"), "kind": "conv", "filters": int(w.shape[0]),
                     "kernel": k, "stride": stride, "padding": int(pads[0]),
                     "in_channels": int(w.shape[1])}
            params[stage["name"]] = {"weight": w.astype(np.float32),
                                     "bias": (np.zeros(w.shape[0], np.float32) if b is None
                                              else b.astype(np.float32))}
            emit(stage, node, out)
        elif op == "BatchNormalization":
            prev = spec[-1]
            if prev["kind"] not in ("conv", "dense") or spec[-1]["name"] not in params:
                walk.fail(node, f"BatchNormalization follows {prev['kind']} {prev['name']!r}; "
                                f"only one right after a conv or dense layer can be folded")
            gamma, beta, mean, var = (walk.const_of(node, i, what) for i, what in
                                      enumerate(("scale", "bias", "mean", "var"), start=1))
            p = params[prev["name"]]
            p["weight"], p["bias"] = fold_batchnorm(p["weight"], p["bias"], gamma, beta, mean,
                                                    var, float(a.get("epsilon", 1e-5)))
            notes.append(f"BatchNormalization {node.name!r} (ε = {a.get('epsilon', 1e-5):g}) is "
                         f"folded into {prev['name']}: its weights and bias are the {prev['kind']} layer's "
                         f"scaled by γ/√(σ² + ε), so {prev['name']} shows the normalised values.")
            origin[prev["name"]] += f" + {node.name} (BatchNormalization, folded)"
            stage_notes[prev["name"]] = folded_note(prev["name"], prev["kind"],
                                                    f"BatchNormalization {node.name!r}")
            checkpoints[prev["name"]] = out
        elif op in _ACTIVATIONS:
            function = _ACTIVATIONS[op]
            stage = {"name": name("activation", function), "kind": "activation",
                     "function": function}
            if function == "leaky_relu":
                # ONNX stores a float32: its shortest repr (0.1, not 0.10000000149) is the
                # same float32 again when the engine computes with it.
                stage["alpha"] = float(np.format_float_positional(np.float32(a.get("alpha",
                                                                                   0.01))))
            emit(stage, node, out)
        elif op in ("MaxPool", "AveragePool"):
            k = _square(walk, node, a["kernel_shape"], "kernel_shape")
            stride = _square(walk, node, a.get("strides", [1, 1]), "strides")
            if any(a.get("pads", [0])):
                walk.fail(node, f"pads {list(a['pads'])}: padded pooling is not supported")
            if a.get("ceil_mode", 0):
                walk.fail(node, "ceil_mode=1: ConvScope floors output sizes like PyTorch's "
                                "default (ceil_mode=0)")
            if any(d != 1 for d in a.get("dilations", [1, 1])):
                walk.fail(node, "dilated pooling is not supported")
            stage = {"name": name("pool"), "kind": "pool",
                     "op": "max" if op == "MaxPool" else "avg", "window": k, "stride": stride}
            emit(stage, node, out)
        elif op in ("GlobalAveragePool", "GlobalMaxPool"):
            # One window over the whole map: the pool kind with window = stride = the side.
            if len(cur_shape) != 3 or cur_shape[1] != cur_shape[2]:
                walk.fail(node, f"global pooling of a {'×'.join(map(str, cur_shape))} input; "
                                f"ConvScope pools square maps")
            stage = {"name": name("pool"), "kind": "pool",
                     "op": "max" if op == "GlobalMaxPool" else "avg",
                     "window": int(cur_shape[1]), "stride": int(cur_shape[1])}
            emit(stage, node, out)
        elif op in ("Flatten", "Reshape"):
            if op == "Flatten" and a.get("axis", 1) != 1:
                walk.fail(node, f"axis={a['axis']}: only flattening everything after the "
                                f"batch axis (axis=1) is supported")
            if op == "Reshape":
                target = walk.shape_value(node, 1)
                flat = int(np.prod(cur_shape))
                ok = target is not None and len(target) == 2 and (
                    int(target[1]) in (-1, flat) and int(target[0]) in (-1, 0, 1)
                    or int(target[0]) == -1 and int(target[1]) == flat)
                if not ok:
                    walk.fail(node, f"reshape to {None if target is None else list(target)}: "
                                    f"only (N, C·H·W) = (N, {flat}) is supported")
            if len(cur_shape) == 1:
                dropped.append(f"{node.name} ({op} of a vector)")
            else:
                emit({"name": name("flatten"), "kind": "flatten"}, node, out)
                if flat_hwc is not None:      # the file's order is (h, w, c): ConvScope's (c, h, w)
                    c, h, w_ = flat_hwc
                    transforms[spec[-1]["name"]] = (
                        lambda r, c=c, h=h, w=w_: r.reshape(-1, h, w, c).transpose(0, 3, 1, 2)
                        .reshape(len(r), -1))
                    stage_notes[spec[-1]["name"]] = (
                        f"The file flattens the maps channels last (pixel by pixel: all {c} "
                        f"channels of a position, then the next position); {spec[-1]['name']} "
                        f"here lists them map by map, so the next dense layer's weights are "
                        f"reordered to match (the same numbers in another order).")
                    reorder, flat_hwc = flat_hwc, None
        elif op == "Gemm":
            w = walk.const_of(node, 1, "weight")
            c = walk.const_of(node, 2, "bias")
            if a.get("transA", 0):
                walk.fail(node, "transA=1 is not supported")
            w = _reordered((w if a.get("transB", 0) else w.T) * a.get("alpha", 1.0), reorder)
            bias = (np.zeros(w.shape[0]) if c is None
                    else np.broadcast_to(np.asarray(c) * a.get("beta", 1.0), (w.shape[0],)))
            stage = {"name": name("dense"), "kind": "dense", "units": int(w.shape[0])}
            params[stage["name"]] = {"weight": np.ascontiguousarray(w, np.float32),
                                     "bias": np.asarray(bias, np.float32)}
            emit(stage, node, out)
            reorder = _reorder_note(reorder, stage["name"], notes, stage_notes)
        elif op == "MatMul":
            w = walk.const_of(node, 1, "weight")
            if w is None or w.ndim != 2:
                walk.fail(node, "MatMul needs a 2-D weight initializer as its second input")
            bias = np.zeros(w.shape[1], np.float32)
            label = f"{node.name} (MatMul)"
            add = walk.next_node(out)
            if add is not None and add.op_type == "Add":
                other = [i for i in add.input if i != out]
                if len(other) == 1 and other[0] in walk.const:
                    bias = np.broadcast_to(walk.const[other[0]], (w.shape[1],))
                    out = add.output[0]
                    label += f" + {add.name} (Add)"
            stage = {"name": name("dense"), "kind": "dense", "units": int(w.shape[1])}
            params[stage["name"]] = {"weight": np.ascontiguousarray(_reordered(w.T, reorder),
                                                                    np.float32),
                                     "bias": np.asarray(bias, np.float32)}
            emit(stage, node, out)
            origin[stage["name"]] = label
            reorder = _reorder_note(reorder, stage["name"], notes, stage_notes)
        elif op in ("Softmax", "LogSoftmax"):
            if len(cur_shape) != 1 or a.get("axis", -1) not in (-1, 1):
                walk.fail(node, f"{op} is supported over the class axis of a vector only")
            emit({"name": name("softmax"), "kind": "softmax"}, node, out)
            if op == "LogSoftmax":
                transforms[spec[-1]["name"]] = np.exp
                stage_notes[spec[-1]["name"]] = log_softmax_note(spec[-1]["name"], op)
                notes.append(f"LogSoftmax {node.name!r} is shown as {spec[-1]['name']}: the page "
                             f"shows the class probabilities p, and the file's output is ln p "
                             f"(checked as exp of it).")
        else:
            walk.fail(node, "this op is not supported")
        if checkpoints.get(spec[-1]["name"]) == out:     # a stage was added (or folded)
            cur_shape = _shape_after(spec, walk, node)
        tensor = out
        walk.sizes[tensor] = size_now or [1] + list(cur_shape)
    if tensor != walk.output:
        raise ImportRefused(f"{path}: the walk from the input ended at {tensor!r}, not the "
                            f"graph's output {walk.output!r}")
    if dropped:
        notes.append("Dropped (they do nothing at inference): " + ", ".join(dropped))
    return Imported("onnx", path, spec, params,
                    _reference(model, checkpoints, walk.input.name, transforms, nhwc), notes,
                    origin, stage_notes)


def _reordered(w, reorder):
    """Dense weights (units, H·W·C) read channels last -> (units, C·H·W), ConvScope's order."""
    if reorder is None:
        return w
    c, h, w_ = reorder
    return w.reshape(w.shape[0], h, w_, c).transpose(0, 3, 1, 2).reshape(w.shape[0], -1)


def _reorder_note(reorder, stage, notes, stage_notes):
    if reorder is not None:
        c, h, w = reorder
        text = (f"{stage}'s weights are reordered: the file flattens its {c}×{h}×{w} maps "
                f"channels last, ConvScope flattens them map by map, so weight [j, c·{h * w} + "
                f"y·{w} + x] here is the file's [j, y·{w * c} + x·{c} + c].")
        notes.append(text)
        stage_notes[stage] = text
    return None


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
