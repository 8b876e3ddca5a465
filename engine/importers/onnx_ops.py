"""ONNX nodes -> ConvScope stages: one method per op (or group of ops), read by
onnx_import.read as it walks the chain from the input to the output.

`Mapping` holds what the walk has built so far (the spec, parameters, notes, the tensor each
stage must equal in ONNX Runtime) and the map shape the next node receives. Each op method
takes (node, attrs, out: its output tensor, tensor: its input) and returns the tensor the walk
continues from (MatMul consumes the Add of its bias). What an op cannot be is refused through
`walk.fail`, naming the node, the op and what is supported.
"""
from __future__ import annotations

import numpy as np

from engine.importers.common import (Namer, fold_batchnorm, folded_note, log_softmax_card,
                                     log_softmax_note)

_ACTIVATIONS = {"Relu": "relu", "Tanh": "tanh", "Sigmoid": "sigmoid", "LeakyRelu": "leaky_relu"}


class Mapping:
    def __init__(self, walk, shape, nhwc):
        self.walk, self.shape, self.nhwc = walk, list(shape), nhwc
        self.name = Namer()
        self.spec = [{"name": "input", "kind": "input", "shape": list(shape)}]
        self.params: dict = {}
        self.notes: list[str] = []
        self.origin: dict[str, str] = {}
        self.checkpoints: dict[str, str] = {}     # stage -> ONNX tensor it must equal
        self.transforms: dict = {}                # stage -> file's tensor -> the stage's values
        self.stage_notes: dict[str, str] = {}
        self.dropped: list[str] = []
        self.cur_shape = list(shape)
        self.size_now = None      # a tensor's size when it is not the stage's (channels last)
        self.flat_hwc = None      # (C, H, W) maps the file is about to flatten channels last
        self.reorder = None       # ... whose order the next dense layer's weights must take

    def handler(self, op):
        return {"Dropout": self.dropped_op, "Identity": self.dropped_op,
                "Transpose": self.transpose, "Conv": self.conv,
                "BatchNormalization": self.batchnorm,
                **{a: self.activation for a in _ACTIVATIONS},
                "MaxPool": self.pool, "AveragePool": self.pool,
                "GlobalAveragePool": self.global_pool, "GlobalMaxPool": self.global_pool,
                "Flatten": self.flatten, "Reshape": self.flatten,
                "Gemm": self.gemm, "MatMul": self.matmul,
                "Softmax": self.softmax, "LogSoftmax": self.softmax}.get(op)

    def emit(self, stage, node, out):
        self.spec.append(stage)
        self.origin[stage["name"]] = f"{node.name} ({node.op_type})"
        self.checkpoints[stage["name"]] = out

    def square(self, node, values, what):
        values = list(values)
        if len(set(values)) != 1:
            self.walk.fail(node, f"{what} {values} is not square; ConvScope draws square windows")
        return int(values[0])

    # --- ops ----------------------------------------------------------------------------
    def dropped_op(self, node, a, out, tensor):
        self.dropped.append(f"{node.name} ({node.op_type})")
        return out

    def transpose(self, node, a, out, tensor):
        """Channels last, as Keras / TensorFlow (tf2onnx) write it: the input's (0, 3, 1, 2),
        and (0, 2, 3, 1) just before the flatten (folded into the next dense layer)."""
        perm = list(a.get("perm", []))
        follow = self.walk.next_node(out)
        if tensor == self.walk.input.name and perm == [0, 3, 1, 2]:
            self.notes.append(f"The model reads its input channels last (N, H, W, C, as Keras "
                              f"and TensorFlow do); its Transpose {node.name!r} makes it "
                              f"channels first, as ConvScope shows it: "
                              f"{'×'.join(map(str, self.shape))}.")
        elif (perm == [0, 2, 3, 1] and len(self.cur_shape) == 3 and follow is not None
              and follow.op_type in ("Flatten", "Reshape")):
            self.flat_hwc = tuple(self.cur_shape)
            c, h, w = self.cur_shape
            self.size_now = [1, h, w, c]
        else:
            self.walk.fail(node, f"perm {perm}: only a channels-last input's Transpose (0, 3, "
                                 f"1, 2) and channels last just before flattening (0, 2, 3, 1) "
                                 f"are supported")
        return out

    def conv(self, node, a, out, tensor):
        walk = self.walk
        w = walk.const_of(node, 1, "weight")
        b = walk.const_of(node, 2, "bias")
        if w is None or w.ndim != 4:
            walk.fail(node, "a 2-D convolution needs a 4-D weight initializer")
        if a.get("group", 1) != 1:
            walk.fail(node, f"group={a['group']}: grouped/depthwise convolutions are not "
                            f"supported (groups=1 only)")
        if any(d != 1 for d in a.get("dilations", [1, 1])):
            walk.fail(node, f"dilations {a['dilations']}: only dilation 1 is supported")
        k = self.square(node, w.shape[2:], "kernel")
        stride = self.square(node, a.get("strides", [1, 1]), "strides")
        pad = self.conv_padding(node, a, k, stride)
        stage = {"name": self.name("conv"), "kind": "conv", "filters": int(w.shape[0]),
                 "kernel": k, "stride": stride, "padding": pad, "in_channels": int(w.shape[1])}
        self.params[stage["name"]] = {"weight": w.astype(np.float32),
                                      "bias": (np.zeros(w.shape[0], np.float32) if b is None
                                               else b.astype(np.float32))}
        self.emit(stage, node, out)
        return out

    def conv_padding(self, node, a, k, stride) -> int:
        """Explicit pads, or auto_pad SAME where it pads every side alike: the output is
        ceil(n / s), the total padding (out − 1)·s + k − n, split evenly only when even."""
        auto_pad = a.get("auto_pad", b"NOTSET")
        auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad
        pads = list(a.get("pads", [0, 0, 0, 0]))
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            totals = [max((-(-n // stride) - 1) * stride + k - n, 0) for n in self.cur_shape[1:]]
            if len(set(totals)) != 1 or totals[0] % 2:
                self.walk.fail(node, f"auto_pad {auto_pad} pads {totals} in total (height, "
                                     f"width): not the same even amount on every side; "
                                     f"ConvScope pads every side alike")
            pads = [totals[0] // 2] * 4
        elif auto_pad == "VALID":
            pads = [0, 0, 0, 0]
        elif auto_pad != "NOTSET":
            self.walk.fail(node, f"auto_pad {auto_pad!r} is not an ONNX padding mode")
        if len(set(pads)) != 1:
            self.walk.fail(node, f"pads {pads} (top, left, bottom, right) are asymmetric; "
                                 f"ConvScope pads every side alike")
        return int(pads[0])

    def batchnorm(self, node, a, out, tensor):
        """Folded into the conv / dense layer right before it (said on the model and there)."""
        prev = self.spec[-1]
        if prev["kind"] not in ("conv", "dense") or prev["name"] not in self.params:
            self.walk.fail(node, f"BatchNormalization follows {prev['kind']} {prev['name']!r}; "
                                 f"only one right after a conv or dense layer can be folded")
        gamma, beta, mean, var = (self.walk.const_of(node, i, what) for i, what in
                                  enumerate(("scale", "bias", "mean", "var"), start=1))
        p = self.params[prev["name"]]
        p["weight"], p["bias"] = fold_batchnorm(p["weight"], p["bias"], gamma, beta, mean, var,
                                                float(a.get("epsilon", 1e-5)))
        self.notes.append(
            f"BatchNormalization {node.name!r} (ε = {a.get('epsilon', 1e-5):g}) is folded into "
            f"{prev['name']}: its weights and bias are the {prev['kind']} layer's scaled by "
            f"γ/√(σ² + ε), so {prev['name']} shows the normalised values.")
        self.origin[prev["name"]] += f" + {node.name} (BatchNormalization, folded)"
        self.stage_notes[prev["name"]] = folded_note(prev["name"], prev["kind"],
                                                     f"BatchNormalization {node.name!r}")
        self.checkpoints[prev["name"]] = out
        return out

    def activation(self, node, a, out, tensor):
        function = _ACTIVATIONS[node.op_type]
        stage = {"name": self.name("activation", function), "kind": "activation",
                 "function": function}
        if function == "leaky_relu":
            # ONNX stores a float32: its shortest repr (0.1, not 0.10000000149) is the same
            # float32 again when the engine computes with it.
            stage["alpha"] = float(np.format_float_positional(np.float32(a.get("alpha", 0.01))))
        self.emit(stage, node, out)
        return out

    def pool(self, node, a, out, tensor):
        k = self.square(node, a["kernel_shape"], "kernel_shape")
        stride = self.square(node, a.get("strides", [1, 1]), "strides")
        if any(a.get("pads", [0])):
            self.walk.fail(node, f"pads {list(a['pads'])}: padded pooling is not supported")
        if a.get("ceil_mode", 0):
            self.walk.fail(node, "ceil_mode=1: ConvScope floors output sizes like PyTorch's "
                                 "default (ceil_mode=0)")
        if any(d != 1 for d in a.get("dilations", [1, 1])):
            self.walk.fail(node, "dilated pooling is not supported")
        self.emit({"name": self.name("pool"), "kind": "pool",
                   "op": "max" if node.op_type == "MaxPool" else "avg", "window": k,
                   "stride": stride}, node, out)
        return out

    def global_pool(self, node, a, out, tensor):
        """One window over the whole map: the pool kind with window = stride = the side."""
        shape = self.cur_shape
        if len(shape) != 3 or shape[1] != shape[2]:
            self.walk.fail(node, f"global pooling of a {'×'.join(map(str, shape))} input; "
                                 f"ConvScope pools square maps")
        self.emit({"name": self.name("pool"), "kind": "pool",
                   "op": "max" if node.op_type == "GlobalMaxPool" else "avg",
                   "window": int(shape[1]), "stride": int(shape[1])}, node, out)
        return out

    def flatten(self, node, a, out, tensor):
        op, shape = node.op_type, self.cur_shape
        if op == "Flatten" and a.get("axis", 1) != 1:
            self.walk.fail(node, f"axis={a['axis']}: only flattening everything after the "
                                 f"batch axis (axis=1) is supported")
        if op == "Reshape":
            target = self.walk.shape_value(node, 1)
            flat = int(np.prod(shape))
            ok = target is not None and len(target) == 2 and (
                int(target[1]) in (-1, flat) and int(target[0]) in (-1, 0, 1)
                or int(target[0]) == -1 and int(target[1]) == flat)
            if not ok:
                self.walk.fail(node, f"reshape to {None if target is None else list(target)}: "
                                     f"only (N, C·H·W) = (N, {flat}) is supported")
        if len(shape) == 1:
            self.dropped.append(f"{node.name} ({op} of a vector)")
            return out
        self.emit({"name": self.name("flatten"), "kind": "flatten"}, node, out)
        if self.flat_hwc is not None:
            self.channels_last_flatten(self.spec[-1]["name"])
        return out

    def channels_last_flatten(self, stage):
        """The file's flatten order is (h, w, c), ConvScope's (c, h, w): the stage's reference
        is put in ConvScope's order and the next dense layer's weights are reordered."""
        c, h, w = self.flat_hwc
        self.transforms[stage] = (lambda r, c=c, h=h, w=w: r.reshape(-1, h, w, c)
                                  .transpose(0, 3, 1, 2).reshape(len(r), -1))
        self.stage_notes[stage] = (
            f"The file flattens the maps channels last (pixel by pixel: all {c} channels of a "
            f"position, then the next position); {stage} here lists them map by map, so the "
            f"next dense layer's weights are reordered to match (the same numbers in another "
            f"order).")
        self.reorder, self.flat_hwc = self.flat_hwc, None

    def dense(self, node, weight, bias, out, label=None):
        """A dense stage of weight (units, inputs) in ConvScope's flatten order."""
        stage = {"name": self.name("dense"), "kind": "dense", "units": int(weight.shape[0])}
        self.params[stage["name"]] = {
            "weight": np.ascontiguousarray(self.reordered(weight), np.float32),
            "bias": np.asarray(bias, np.float32)}
        self.emit(stage, node, out)
        if label:
            self.origin[stage["name"]] = label
        if self.reorder is not None:
            c, h, w = self.reorder
            text = (f"{stage['name']}'s weights are reordered: the file flattens its {c}×{h}×{w} "
                    f"maps channels last, ConvScope flattens them map by map, so weight "
                    f"[j, c·{h * w} + y·{w} + x] here is the file's [j, y·{w * c} + x·{c} + c].")
            self.notes.append(text)
            self.stage_notes[stage["name"]] = text
            self.reorder = None
        return out

    def reordered(self, w):
        """Dense weights (units, H·W·C) read channels last -> (units, C·H·W)."""
        if self.reorder is None:
            return w
        c, h, w_ = self.reorder
        return w.reshape(w.shape[0], h, w_, c).transpose(0, 3, 1, 2).reshape(w.shape[0], -1)

    def gemm(self, node, a, out, tensor):
        w = self.walk.const_of(node, 1, "weight")
        c = self.walk.const_of(node, 2, "bias")
        if a.get("transA", 0):
            self.walk.fail(node, "transA=1 is not supported")
        w = (w if a.get("transB", 0) else w.T) * a.get("alpha", 1.0)
        bias = (np.zeros(w.shape[0]) if c is None
                else np.broadcast_to(np.asarray(c) * a.get("beta", 1.0), (w.shape[0],)))
        return self.dense(node, w, bias, out)

    def matmul(self, node, a, out, tensor):
        """MatMul by a stored weight, with the Add of a stored bias right after it if any."""
        walk = self.walk
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
        return self.dense(node, w.T, bias, out, label)

    def softmax(self, node, a, out, tensor):
        op = node.op_type
        if len(self.cur_shape) != 1 or a.get("axis", -1) not in (-1, 1):
            self.walk.fail(node, f"{op} is supported over the class axis of a vector only")
        self.emit({"name": self.name("softmax"), "kind": "softmax"}, node, out)
        if op == "LogSoftmax":      # the page shows p; the file's ln p is checked as exp
            stage = self.spec[-1]["name"]
            self.transforms[stage] = np.exp
            self.stage_notes[stage] = log_softmax_note(stage, op)
            self.notes.append(log_softmax_card(node.name, stage))
        return out
