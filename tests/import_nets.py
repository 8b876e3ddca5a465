"""Real small ConvNet architectures built from code with seeded weights, for the importer
tests, the API/browser tests of imported models and bench/import.py. Needs torch (and onnx to
export); callers importorskip.

  lenet5      LeCun et al. 1998 on 28×28: conv 6@5×5 pad 2, tanh, avg pool, conv 16@5×5,
              tanh, avg pool, conv 120@5×5 (C5: 1×1 maps), tanh, F6 84, tanh, 10
  convnetjs   Karpathy's ConvNetJS MNIST demo: conv 8@5×5 pad 2, relu, pool 2, conv 16@5×5
              pad 2, relu, pool 3 (14 -> 4, floored), dense 10, softmax
  tinyvgg     CNN Explainer's Tiny VGG on 64×64×3: (conv 10@3×3, relu) ×2, max pool,
              (conv 10@3×3, relu) ×2, max pool, dense 10, softmax
  bn_dropout  stride-2 conv + BatchNorm + LeakyReLU + Dropout, conv + BatchNorm, dense +
              BatchNorm1d + Dropout, and no final softmax
"""
from __future__ import annotations

import numpy as np

SHAPES = {"lenet5": (1, 28, 28), "convnetjs": (1, 28, 28), "tinyvgg": (3, 64, 64),
          "bn_dropout": (1, 28, 28)}
CLASSES = {"tinyvgg": ["lifeboat", "ladybug", "pizza", "bell pepper", "school bus",
                       "koala", "espresso", "red panda", "orange", "sport car"]}


def build(name: str, seed: int = 0):
    import torch
    from torch import nn
    torch.manual_seed(seed)
    if name == "lenet5":
        net = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2),
            nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
            nn.Conv2d(16, 120, 5), nn.Tanh(), nn.Flatten(),
            nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10), nn.Softmax(dim=1))
    elif name == "convnetjs":
        net = nn.Sequential(
            nn.Conv2d(1, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(8, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 3),
            nn.Flatten(), nn.Linear(16 * 4 * 4, 10), nn.Softmax(dim=1))
    elif name == "tinyvgg":
        net = nn.Sequential(
            nn.Conv2d(3, 10, 3), nn.ReLU(), nn.Conv2d(10, 10, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(10, 10, 3), nn.ReLU(), nn.Conv2d(10, 10, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(10 * 13 * 13, 10), nn.Softmax(dim=1))
    elif name == "bn_dropout":
        net = nn.Sequential(
            nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.LeakyReLU(0.1),
            nn.Dropout(0.25),
            nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(16 * 7 * 7, 32), nn.BatchNorm1d(32), nn.ReLU(),
            nn.Dropout(0.5), nn.Linear(32, 10))
        g = torch.Generator().manual_seed(seed + 1)
        for m in net:
            if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):   # statistics a run would leave
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=g) * 0.3)
                m.running_var.copy_(torch.rand(n, generator=g) * 2 + 0.2)
                m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
                m.bias.data.copy_(torch.randn(n, generator=g) * 0.2)
    else:
        raise KeyError(name)
    return net.eval()


def export_onnx(net, name: str, path) -> None:
    """torch.onnx.export (the TorchScript exporter: no onnxscript needed). Constant folding is
    off for the BatchNorm net so its BatchNormalization nodes reach the importer."""
    import warnings

    import torch
    x = torch.zeros((1,) + SHAPES[name])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (x,), str(path), dynamo=False, input_names=["image"],
                          output_names=["scores"], do_constant_folding=name != "bn_dropout")


def picture(name: str, seed: int = 0) -> np.ndarray:
    """A test input of the net's own shape in [0, 1]."""
    return np.random.default_rng(seed).random(SHAPES[name], dtype=np.float32)


def import_all(folder, names=None) -> dict:
    """Export each net to ONNX and `convscope import` it into `folder`: name -> model .npz.
    LeNet-5 and ConvNetJS read MNIST digits (classes 0-9); Tiny VGG has CNN Explainer's ten
    classes and ImageNet's mean/std; the BatchNorm net draws, and keeps its logits
    (`--logits`: no softmax stage, so the page's no-softmax path is exercised)."""
    from pathlib import Path

    from engine.commands import import_model
    folder = Path(folder)
    out = {}
    for name in names or SHAPES:
        onnx_path = folder / f"{name}.onnx"
        export_onnx(build(name), name, onnx_path)
        npz = folder / f"{name}.npz"
        options = {"dataset": "mnist"} if name in ("lenet5", "convnetjs") else {}
        if name == "bn_dropout":
            options["logits"] = True
        if name == "tinyvgg":
            options.update(classes=",".join(CLASSES[name]), mean=[0.485, 0.456, 0.406],
                           std=[0.229, 0.224, 0.225], subject="image")
        import_model(onnx_path, npz, log=lambda _: None, **options)
        out[name] = npz
    return out
