"""PyTorch -> ConvScope: an `nn.Sequential` saved whole (`torch.save(model, f)`), or a
`state_dict` plus the architecture as a ConvScope spec (`--spec FILE`).

Modules supported (nested Sequentials are flattened; anything else is refused by name):
  Conv2d (square kernel, equal stride, symmetric zero padding, dilation 1, groups 1),
  ReLU Tanh Sigmoid LeakyReLU, MaxPool2d AvgPool2d (no padding, ceil_mode False),
  AdaptiveAvgPool2d / AdaptiveMaxPool2d (an output size that divides the map: the fixed window
  it is; (1, 1) is global pooling),
  Flatten (start_dim 1), Linear, Softmax / LogSoftmax (dim 1 / -1; LogSoftmax is shown as the
  softmax stage, its ln p checked as exp),
  BatchNorm2d / BatchNorm1d (folded into the conv/linear before it), Dropout*, Identity (dropped).

A whole-model file is a pickle: loading it runs code from the file, so import only files you
trust (PyTorch's own `weights_only=False` warning). A state_dict is loaded with
`weights_only=True`. The reference is PyTorch itself, module by module, in float32.
"""
from __future__ import annotations

import os

import numpy as np

from engine.errors import ImportRefused, SpecError
from engine.importers.common import (Imported, Namer, fold_batchnorm, folded_note,
                                     log_softmax_card, log_softmax_note)

SUPPORTED = ("Conv2d", "ReLU", "Tanh", "Sigmoid", "LeakyReLU", "MaxPool2d", "AvgPool2d",
             "AdaptiveAvgPool2d/AdaptiveMaxPool2d (dividing the map)",
             "Flatten", "Linear", "Softmax", "LogSoftmax", "BatchNorm2d/BatchNorm1d (folded)",
             "Dropout", "Identity")


def _torch():
    try:
        import torch
    except ImportError:
        raise ImportRefused("importing a PyTorch model needs torch installed "
                            "(pip install torch)") from None
    return torch


def _pair(value, what, where):
    values = list(value) if isinstance(value, (tuple, list)) else [value, value]
    if len(set(values)) != 1:
        raise ImportRefused(f"{where}: {what} {tuple(values)} is not square; ConvScope draws "
                            f"square windows")
    return int(values[0])


def _leaves(module, prefix=""):
    torch = _torch()
    if isinstance(module, torch.nn.Sequential):
        for name, child in module.named_children():
            yield from _leaves(child, f"{prefix}{name}.")
    else:
        yield prefix.rstrip("."), module


def load(path):
    """The file's object: a module (whole model) or a dict of tensors (a state_dict)."""
    torch = _torch()
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ImportRefused(f"{path}: no such file")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as safe_exc:   # a pickled module is refused by weights_only=True
        try:
            return torch.load(path, map_location="cpu", weights_only=False)
        except (AttributeError, ModuleNotFoundError) as exc:
            # pickle stores a model's class by name ("Net" in __main__), not its code.
            raise ImportRefused(
                f"{path}: a whole model of your own class, whose code is not here ({exc}): "
                f"PyTorch saves a model's class by name, not its code. In the notebook that "
                f"defines it, export it to ONNX (torch.onnx.export(model, example_input, "
                f"'model.onnx')) and import that, or save it as an nn.Sequential, or save "
                f"model.state_dict() and give the architecture with --spec FILE") from None
        except Exception as exc:
            raise ImportRefused(f"{path}: not a readable PyTorch file ({type(exc).__name__}: "
                                f"{str(exc).splitlines()[0] if str(exc) else safe_exc})") from None


def read(path, spec=None, input_shape=None) -> Imported:
    torch = _torch()
    obj = load(path)
    path = os.fspath(path)
    if isinstance(obj, torch.nn.Module):
        if not isinstance(obj, torch.nn.Sequential):
            raise ImportRefused(f"{path}: the model is a {type(obj).__name__}, not an "
                                f"nn.Sequential; ConvScope follows one chain of layers. "
                                f"Export it to ONNX (torch.onnx.export) or rebuild it as "
                                f"nn.Sequential")
        shape = _input_shape(path, spec, input_shape)
        return _from_module(path, obj.eval(), shape)
    if isinstance(obj, dict) and obj and all(torch.is_tensor(v) for v in obj.values()):
        if spec is None:
            keys = ", ".join(list(obj)[:6]) + (", ..." if len(obj) > 6 else "")
            raise ImportRefused(f"{path} holds only weights (a state_dict: {keys}); it does "
                                f"not say the architecture. Give it with --spec FILE (a "
                                f"ConvScope JSON spec, input shape first), or save the whole "
                                f"nn.Sequential / export to ONNX")
        return _from_state_dict(path, obj, spec, _input_shape(path, spec, input_shape))
    raise ImportRefused(f"{path}: holds a {type(obj).__name__}, neither an nn.Sequential nor "
                        f"a state_dict of tensors")


def _input_shape(path, spec, given):
    if given is not None:
        return [int(d) for d in given]
    if spec and spec[0].get("shape"):
        return [int(d) for d in spec[0]["shape"]]
    raise ImportRefused(f"{path}: a PyTorch file does not record its input size; give "
                        f"--input-shape C,H,W (e.g. 1,28,28 or 3,64,64)")


def _from_module(path, model, shape) -> Imported:
    torch = _torch()
    nn = torch.nn
    name = Namer()
    spec = [{"name": "input", "kind": "input", "shape": shape}]
    params, notes, origin, checkpoints, dropped = {}, [], {}, {}, []
    logs = set()          # LogSoftmax leaves: their reference is exp of their output
    stage_notes: dict[str, str] = {}
    leaves = list(_leaves(model))
    for index, (mname, m) in enumerate(leaves):
        where = f"{path}: module {mname!r} ({type(m).__name__})"
        kind = None
        if isinstance(m, (nn.Dropout, nn.Dropout2d, nn.Dropout1d, nn.AlphaDropout, nn.Identity)):
            dropped.append(f"{mname} ({type(m).__name__})")
            continue
        if isinstance(m, nn.Conv2d):
            if m.groups != 1 or _pair(m.dilation, "dilation", where) != 1:
                raise ImportRefused(f"{where}: groups={m.groups}, dilation={m.dilation}; only "
                                    f"groups=1, dilation 1 are supported")
            if m.padding_mode != "zeros" or isinstance(m.padding, str):
                raise ImportRefused(f"{where}: padding {m.padding!r} mode {m.padding_mode!r}; "
                                    f"only explicit zero padding is supported")
            stage = {"kind": "conv", "filters": m.out_channels,
                     "kernel": _pair(m.kernel_size, "kernel", where),
                     "stride": _pair(m.stride, "stride", where),
                     "padding": _pair(m.padding, "padding", where), "in_channels": m.in_channels}
            kind = "conv"
        elif isinstance(m, nn.Linear):
            stage, kind = {"kind": "dense", "units": m.out_features}, "dense"
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            prev = spec[-1]
            if prev["kind"] not in ("conv", "dense"):
                raise ImportRefused(f"{where}: follows {prev['kind']} {prev['name']!r}; only a "
                                    f"BatchNorm right after a conv or linear can be folded")
            p = params[prev["name"]]
            gamma = m.weight.detach().numpy() if m.affine else np.ones(m.num_features)
            beta = m.bias.detach().numpy() if m.affine else np.zeros(m.num_features)
            p["weight"], p["bias"] = fold_batchnorm(p["weight"], p["bias"], gamma, beta,
                                                    m.running_mean.numpy(),
                                                    m.running_var.numpy(), m.eps)
            notes.append(f"{type(m).__name__} {mname!r} (ε = {m.eps:g}) is folded into "
                         f"{prev['name']}: its weights and bias are scaled by γ/√(σ² + ε), so "
                         f"{prev['name']} shows the normalised values.")
            origin[prev["name"]] += f" + {mname} ({type(m).__name__}, folded)"
            stage_notes[prev["name"]] = folded_note(prev["name"], prev["kind"],
                                                    f"{type(m).__name__} {mname!r}")
            checkpoints[prev["name"]] = index
            continue
        elif isinstance(m, (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.LeakyReLU)):
            function = {nn.ReLU: "relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid",
                        nn.LeakyReLU: "leaky_relu"}[type(m)]
            stage = {"kind": "activation", "function": function}
            if function == "leaky_relu":
                stage["alpha"] = float(m.negative_slope)
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            if _pair(m.padding, "padding", where) or m.ceil_mode:
                raise ImportRefused(f"{where}: padding {m.padding}, ceil_mode {m.ceil_mode}; "
                                    f"only unpadded, floored pooling is supported")
            if isinstance(m, nn.MaxPool2d) and _pair(m.dilation, "dilation", where) != 1:
                raise ImportRefused(f"{where}: dilated pooling is not supported")
            if isinstance(m, nn.AvgPool2d) and m.divisor_override:
                raise ImportRefused(f"{where}: divisor_override is not supported")
            window = _pair(m.kernel_size, "kernel", where)
            stride = _pair(m.stride if m.stride else window, "stride", where)
            stage = {"kind": "pool", "op": "max" if isinstance(m, nn.MaxPool2d) else "avg",
                     "window": window, "stride": stride}
        elif isinstance(m, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
            stage = _adaptive_pool(m, spec, where)
        elif isinstance(m, nn.Flatten):
            if m.start_dim != 1 or m.end_dim != -1:
                raise ImportRefused(f"{where}: only Flatten(start_dim=1) is supported")
            stage = {"kind": "flatten"}
        elif isinstance(m, (nn.Softmax, nn.LogSoftmax)):
            if m.dim not in (1, -1):
                raise ImportRefused(f"{where}: {type(m).__name__}(dim={m.dim}); only the class "
                                    f"axis")
            stage = {"kind": "softmax"}
            if isinstance(m, nn.LogSoftmax):
                logs.add(index)
        else:
            raise ImportRefused(f"{where} is not supported. Supported: {', '.join(SUPPORTED)}; "
                                f"nn.Sequential only")
        stage = {"name": name(stage["kind"], stage.get("function")), **stage}
        spec.append(stage)
        origin[stage["name"]] = f"{mname} ({type(m).__name__})"
        checkpoints[stage["name"]] = index
        if index in logs:
            stage_notes[stage["name"]] = log_softmax_note(stage["name"], "LogSoftmax")
            notes.append(log_softmax_card(mname, stage["name"]))
        if kind is not None:
            bias = m.bias.detach().numpy() if m.bias is not None else np.zeros(m.weight.shape[0])
            params[stage["name"]] = {"weight": m.weight.detach().numpy().astype(np.float32),
                                     "bias": bias.astype(np.float32)}
    if dropped:
        notes.append("Dropped (they do nothing at inference): " + ", ".join(dropped))

    def reference(x):
        outs = {}
        with torch.no_grad():
            h = torch.from_numpy(np.ascontiguousarray(x, np.float32))
            for index, (_, m) in enumerate(leaves):
                h = m(h)
                outs[index] = np.exp(h.numpy()) if index in logs else h.numpy().copy()
        return {stage: outs[i] for stage, i in checkpoints.items()}
    return Imported("torch", path, spec, params, reference, notes, origin, stage_notes)


def _adaptive_pool(m, spec, where) -> dict:
    """An adaptive pool is a fixed window when its output size divides the map (PyTorch's
    bins are then equal): window = stride = map side / output side."""
    from engine.spec import infer_shapes
    torch = _torch()
    shape = infer_shapes(spec)[-1]["shape"]
    if len(shape) != 3:
        raise ImportRefused(f"{where}: pools maps, but follows a vector of {shape[0]}")
    out = m.output_size if isinstance(m.output_size, (tuple, list)) else (m.output_size,) * 2
    out = [shape[1 + i] if o is None else int(o) for i, o in enumerate(out)]
    if out[0] != out[1] or shape[1] != shape[2] or shape[1] % out[0]:
        raise ImportRefused(f"{where}: output size {tuple(out)} of a {shape[1]}×{shape[2]} map "
                            f"is not one square window size; ConvScope imports an adaptive "
                            f"pool whose output side divides a square map")
    window = shape[1] // out[0]
    return {"kind": "pool", "op": "max" if isinstance(m, torch.nn.AdaptiveMaxPool2d) else "avg",
            "window": window, "stride": window}


def _from_state_dict(path, state, spec, shape) -> Imported:
    """state_dict groups (by key prefix, in order) matched to the spec's conv/dense stages; a
    group with running statistics is a BatchNorm, folded into the stage before it."""
    from engine.spec import infer_shapes
    torch = _torch()
    try:
        stages = infer_shapes(spec, input_shape=shape)
    except SpecError as exc:
        raise ImportRefused(f"--spec: {exc}") from None
    groups: dict[str, dict] = {}
    for key, value in state.items():
        prefix, _, leaf = key.rpartition(".")
        groups.setdefault(prefix, {})[leaf] = value.detach().numpy()
    trainable = [s for s in stages if s["kind"] in ("conv", "dense")]
    params, notes, bn_after, stage_notes = {}, [], {}, {}
    stages_by = {s["name"]: s for s in stages}
    it = iter(trainable)
    last = None
    for prefix, g in groups.items():
        if "running_mean" in g:
            if last is None:
                raise ImportRefused(f"{path}: BatchNorm weights {prefix!r} come before any "
                                    f"conv/linear weights; nothing to fold them into")
            bn_after[last["name"]] = (prefix, g)
            continue
        if "weight" not in g:
            raise ImportRefused(f"{path}: state_dict group {prefix!r} has {sorted(g)}, not "
                                f"weight/bias")
        last = next(it, None)
        if last is None:
            raise ImportRefused(f"{path}: state_dict has more weight groups than the spec's "
                                f"{len(trainable)} conv/dense stages (extra: {prefix!r})")
        want = ((last["filters"], last["in_channels"], last["kernel"], last["kernel"])
                if last["kind"] == "conv" else None)
        w = g["weight"]
        if want is not None and tuple(w.shape) != want or (
                last["kind"] == "dense" and w.shape[0] != last["units"]):
            raise ImportRefused(f"{path}: {prefix}.weight has shape {list(w.shape)} but spec "
                                f"stage {last['name']!r} needs "
                                f"{list(want) if want else [last['units'], '…']}")
        params[last["name"]] = {"weight": w.astype(np.float32),
                                "bias": g.get("bias", np.zeros(w.shape[0])).astype(np.float32)}
    missing = [s["name"] for s in trainable if s["name"] not in params]
    if missing:
        raise ImportRefused(f"{path}: no weights for spec stage(s) {', '.join(missing)}")
    raw = {k: {kk: vv.copy() for kk, vv in v.items()} for k, v in params.items()}
    for stage_name, (prefix, g) in bn_after.items():
        p = params[stage_name]
        n = p["weight"].shape[0]
        p["weight"], p["bias"] = fold_batchnorm(
            p["weight"], p["bias"], g.get("weight", np.ones(n)), g.get("bias", np.zeros(n)),
            g["running_mean"], g["running_var"], 1e-5)
        notes.append(f"BatchNorm {prefix!r} (ε = 1e-05, PyTorch's default) is folded into "
                     f"{stage_name}.")
        stage_notes[stage_name] = folded_note(stage_name, stages_by[stage_name]["kind"],
                                              f"BatchNorm {prefix!r}")
    spec = [{k: v for k, v in s.items() if k != "shape"} for s in stages]
    spec[0]["shape"] = list(shape)
    F = torch.nn.functional

    def reference(x):
        """PyTorch's functional ops on the unfolded weights (BatchNorm applied as such)."""
        outs = {}
        with torch.no_grad():
            h = torch.from_numpy(np.ascontiguousarray(x, np.float32))
            for s in stages[1:]:
                k = s["kind"]
                if k in ("conv", "dense"):
                    w, b = (torch.from_numpy(raw[s["name"]][key]) for key in ("weight", "bias"))
                    h = (F.conv2d(h, w, b, s["stride"], s["padding"]) if k == "conv"
                         else F.linear(h, w, b))
                    if s["name"] in bn_after:
                        g = {kk: torch.from_numpy(np.asarray(vv, np.float32))
                             for kk, vv in bn_after[s["name"]][1].items()}
                        h = F.batch_norm(h, g["running_mean"], g["running_var"], g.get("weight"),
                                         g.get("bias"), False, 0.0, 1e-5)
                elif k == "activation":
                    fn = s["function"]
                    h = (F.relu(h) if fn == "relu" else torch.sigmoid(h) if fn == "sigmoid"
                         else F.leaky_relu(h, s["alpha"]) if fn == "leaky_relu"
                         else s.get("scale", 1.0) * torch.tanh(s.get("slope", 1.0) * h))
                elif k == "pool":
                    pool = {"max": F.max_pool2d, "avg": F.avg_pool2d}.get(s["op"])
                    h = (pool(h, s["window"], s["stride"]) if pool else
                         F.avg_pool2d(h, s["window"], s["stride"]) * s["window"] ** 2)
                elif k == "flatten":
                    h = h.flatten(1)
                elif k == "softmax":
                    h = F.softmax(h, dim=1)
                outs[s["name"]] = h.numpy().copy()
        return outs
    origin = {s["name"]: s["name"] for s in stages[1:]}
    return Imported("torch", path, spec, params, reference, notes, origin, stage_notes)
