"""Shape computations in an ONNX graph, folded to constants for the importer.

A model exported with a dynamic batch writes `x.view(x.size(0), -1)` as
Shape(x) -> Gather(0) -> Unsqueeze -> Concat([n, -1]) -> Reshape: the Reshape's target is
computed, not stored. ConvScope knows every walked tensor's size (with a batch of 1), so such
a target is worked out here and the Reshape read as the flatten it is.
"""
from __future__ import annotations

import numpy as np

SHAPE_OPS = ("Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Slice", "Cast", "Identity",
             "Mul", "Div", "Add", "Sub")


def attrs(node) -> dict:
    """A node's attributes as Python values."""
    import onnx
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def fold(walk, name: str, reshape, depth: int = 0):
    """The value of tensor `name`, a shape computation feeding `reshape`'s target: a constant,
    or ops of SHAPE_OPS over constants and the sizes of tensors already walked
    (`walk.sizes`, batch 1). Folded values are kept in `walk.const`; anything else is refused
    through `walk.fail`, naming the Reshape and the op."""
    if name in walk.const:
        return np.asarray(walk.const[name])
    node = walk.producer.get(name)
    if node is None or depth > 64 or node.op_type not in SHAPE_OPS:
        what = "the graph's input" if node is None else f"{node.name!r} ({node.op_type})"
        walk.fail(reshape, f"its target shape comes from {what}, which is not a shape "
                           f"computation ConvScope can work out ({', '.join(SHAPE_OPS)} of "
                           f"constants and tensor sizes)")
    op, a = node.op_type, attrs(node)
    if op == "Shape":
        if node.input[0] not in walk.sizes:
            walk.fail(reshape, f"its target shape reads the size of {node.input[0]!r}, "
                               f"a tensor off the chain of layers")
        value = np.asarray(walk.sizes[node.input[0]], np.int64)[a.get("start", 0):a.get("end")]
    else:
        args = [fold(walk, i, reshape, depth + 1) if i else None for i in node.input]
        if op == "Gather":
            value = np.take(args[0], args[1], axis=a.get("axis", 0))
        elif op in ("Unsqueeze", "Squeeze"):
            axes = a.get("axes", list(args[1]) if len(args) > 1 and args[1] is not None else None)
            value = args[0]
            if op == "Squeeze":
                value = np.squeeze(value, axis=None if axes is None else tuple(axes))
            else:
                rank = value.ndim + len(axes)
                for axis in sorted(int(x) % rank for x in axes):
                    value = np.expand_dims(value, axis)
        elif op == "Concat":
            value = np.concatenate([np.atleast_1d(x) for x in args], axis=a.get("axis", 0))
        elif op == "Slice":
            if "starts" in a:                     # opset < 10: attributes
                starts, ends, axes, steps = a["starts"], a["ends"], a.get("axes"), None
            else:
                starts, ends = args[1], args[2]
                axes = args[3] if len(args) > 3 else None
                steps = args[4] if len(args) > 4 else None
            axes = list(range(len(starts))) if axes is None else list(axes)
            steps = [1] * len(starts) if steps is None else list(steps)
            index = [slice(None)] * args[0].ndim
            for st, en, ax, sp in zip(starts, ends, axes, steps):
                index[int(ax)] = slice(int(st), int(en), int(sp))
            value = args[0][tuple(index)]
        elif op == "Cast":
            import onnx
            value = args[0].astype(onnx.helper.tensor_dtype_to_np_dtype(a["to"]))
        elif op == "Identity":
            value = args[0]
        else:
            value = {"Mul": np.multiply, "Add": np.add, "Sub": np.subtract,
                     "Div": np.floor_divide}[op](args[0], args[1])
    walk.const[name] = value
    return value
