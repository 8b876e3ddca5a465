"""`convscope train` and `convscope evaluate` (wired into the CLI by app/cli.py).

In a checkout the defaults (app/config.py) reproduce the shipped model: `convscope train` alone
trains the reference net on ../shared/data/mnist (10,000 training digits) and writes
models/lenet-mnist.npz beside its history models/lenet-mnist.history.npz. Errors are one line on stderr and a non-zero exit.
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

from engine.errors import EngineError


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def add_train_command(subparsers, *, data: Path, out: Path) -> None:
    """`convscope train`; the default --data and --out are the CLI's to say (app/config.py:
    a checkout and an installed package differ)."""
    from engine.train import TrainConfig
    d = TrainConfig()
    p = subparsers.add_parser("train", help="train a model on MNIST-format data and save it")
    p.add_argument("--data", type=Path, default=data,
                   help=f"directory with the IDX files; the test pair is enough (default {data})")
    p.add_argument("--epochs", type=_positive_int, default=d.epochs,
                   help=f"passes over the training set (default {d.epochs})")
    p.add_argument("--out", type=Path, default=out,
                   help="model file to write; its history goes beside it as "
                        f"<name>.history.npz (default {out})")
    p.add_argument("--seed", type=int, default=d.seed, help=f"random seed (default {d.seed})")
    p.add_argument("--batch-size", type=_positive_int, default=d.batch_size,
                   help=f"mini-batch size (default {d.batch_size})")
    p.add_argument("--lr", type=_positive_float, default=d.lr,
                   help=f"peak learning rate of the cosine schedule (default {d.lr})")
    p.add_argument("--spec", default="reference",
                   help="a named spec of engine/zoo.py: 'reference' (the LeNet of the contract), "
                        "'harley' (scaled tanh, LeCun's C3 table), 'fashion'; or a JSON file "
                        "holding a spec list (default reference)")
    p.add_argument("--no-augment", action="store_true",
                   help="train without random shifts/rotations/scalings")
    p.set_defaults(run=run_train)


def add_evaluate_command(subparsers, *, data: Path, model: Path) -> None:
    """`convscope evaluate`; the default --data and --model are the CLI's (app/config.py)."""
    p = subparsers.add_parser("evaluate", help="print a model's test accuracy and confusion matrix")
    p.add_argument("--model", type=Path, default=model,
                   help=f"model .npz written by `convscope train` (default {model})")
    p.add_argument("--data", type=Path, default=data,
                   help=f"directory with the IDX files; the test pair is enough (default {data})")
    p.set_defaults(run=run_evaluate)


def _fail(command: str, message: str) -> int:
    print(f"convscope {command}: error: {message}", file=sys.stderr)
    return 2


def load_spec(name: str) -> list:
    from engine.errors import SpecError
    from engine.zoo import SPECS, get_spec
    if name in SPECS:                   # a named spec of engine/zoo.py (reference, harley, ...)
        return get_spec(name)
    try:
        spec = json.loads(Path(name).read_text())
    except (OSError, ValueError) as exc:
        raise SpecError(f"--spec {name!r}: not a named spec ({', '.join(SPECS)}) and not a "
                        f"readable JSON spec file ({exc})") from None
    return spec


def train_and_save(spec, data, out: Path, config, spec_name: str = "reference"):
    """Train, score on the test split, write the model and its history beside it.
    Returns (accuracy, seconds, history path)."""
    from engine.history import history_path
    from engine.train import evaluate, train

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    network, history = train(spec, data, config=config)
    seconds = time.perf_counter() - start
    accuracy, _ = evaluate(network, data.test_x, data.test_y)
    hist = history_path(out)
    network.save(out, {
        "name": out.name.removesuffix(".npz"), "dataset": data.name,
        "classes": list(data.classes), "spec": spec_name,
        "accuracy": {"test": accuracy}, "seed": config.seed, "epochs": config.epochs,
        "data_digest": data.digest, "train_count": len(data.train_x),
        "test_count": len(data.test_x), "training_seconds": round(seconds, 1),
        "history": hist.name, "config": history.config,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    })
    history.save(hist)
    return accuracy, seconds, hist


def run_train(args) -> int:
    from engine.data import load_mnist
    from engine.network import Network
    from engine.train import TrainConfig

    config = TrainConfig(epochs=args.epochs, seed=args.seed, batch_size=args.batch_size,
                         lr=args.lr, augment=not args.no_augment)
    try:
        spec = load_spec(args.spec)
        Network(spec)                     # validate the spec before loading data
        data = load_mnist(args.data)
        print(f"training on {len(data.train_x)} {data.name} images from {args.data}, testing on "
              f"{len(data.test_x)}; {args.epochs} epochs", file=sys.stderr)
        accuracy, seconds, hist = train_and_save(spec, data, args.out, config, args.spec)
    except EngineError as exc:
        return _fail("train", str(exc))
    except OSError as exc:
        return _fail("train", f"cannot write {exc.filename or args.out}: {exc.strerror or exc}")
    print(f"test accuracy {100 * accuracy:.2f}% ({round(accuracy * len(data.test_y))}/"
          f"{len(data.test_y)}) after {args.epochs} epochs in {seconds:.0f} s; wrote "
          f"{args.out} and {hist}")
    return 0


def format_confusion(confusion, classes) -> str:
    """Rows true class, columns predicted; a header of column indices."""
    k = len(confusion)
    width = max(5, len(str(int(confusion.max()))) + 1)
    lines = ["true\\pred " + "".join(f"{j:>{width}}" for j in range(k))]
    for i in range(k):
        name = str(classes[i]) if i < len(classes) else str(i)
        label = (name if name == str(i) else f"{i} {name}")[:9]
        lines.append(f"{label:<10}" + "".join(f"{int(c):>{width}}" for c in confusion[i]))
    return "\n".join(lines)


def run_evaluate(args) -> int:
    from engine.data import load_mnist
    from engine.network import Network
    from engine.train import evaluate

    try:
        network = Network.load(args.model)
        data = load_mnist(args.data, require_train=False)   # only the test pair is read
        classes = network.metadata.get("classes") or list(data.classes)
        outputs = network.stages[-1]["shape"][0]
        if outputs != len(data.classes):
            return _fail("evaluate", f"{args.model} has {outputs} outputs but {args.data} has "
                                     f"{len(data.classes)} classes")
        trained_on = network.metadata.get("dataset")
        if trained_on and trained_on != data.name:
            print(f"warning: {args.model} was trained on {trained_on}, the data in {args.data} "
                  f"looks like {data.name}", file=sys.stderr)
        start = time.perf_counter()
        accuracy, confusion = evaluate(network, data.test_x, data.test_y)
        seconds = time.perf_counter() - start
    except EngineError as exc:
        return _fail("evaluate", str(exc))
    recorded = (network.metadata.get("accuracy") or {}).get("test")
    print(f"{args.model} on {len(data.test_y)} test images of {args.data} ({data.name}): "
          f"accuracy {100 * accuracy:.2f}% ({int(confusion.trace())}/{len(data.test_y)}) "
          f"in {seconds:.2f} s" + ("" if recorded is None else
                                   f"; recorded at training: {100 * recorded:.2f}%"))
    print(format_confusion(confusion, classes))
    return 0


def _csv_floats(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}")


def _csv_ints(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")


def add_import_command(subparsers) -> None:
    p = subparsers.add_parser(
        "import", help="turn an ONNX file or a PyTorch nn.Sequential into a ConvScope model, "
                       "verified stage by stage against ONNX Runtime / PyTorch")
    p.add_argument("source", type=Path, metavar="MODEL",
                   help=".onnx file, or a PyTorch .pt/.pth (a whole nn.Sequential, or a "
                        "state_dict with --spec). A whole PyTorch model is a pickle: import "
                        "only files you trust")
    p.add_argument("--out", type=Path, required=True, help="ConvScope model .npz to write")
    p.add_argument("--classes", default=None,
                   help="comma-separated class names, one per output (default 0..K-1)")
    p.add_argument("--input-preprocess", choices=("mnist", "resize", "none"), default=None,
                   help="how a drawing or picture becomes the input: mnist (crop, fit 20×20, "
                        "centre by mass in 28×28, pad), resize (scale to the input side, "
                        "normalise with --mean/--std), none (already the input's size). "
                        "Default: mnist for 1×28×28 and 1×32×32 inputs, resize otherwise")
    p.add_argument("--mean", type=_csv_floats, default=None,
                   help="per-channel mean subtracted after scaling pixels to [0, 1]")
    p.add_argument("--std", type=_csv_floats, default=None, help="per-channel std divided by")
    p.add_argument("--input-pad", type=int, default=None,
                   help="zeros around the preprocessed picture (28 -> 32 is 2; default: "
                        "what makes mnist's 28×28 fit, else 0)")
    p.add_argument("--subject", choices=("digit", "clothing", "image", "drawing"), default=None,
                   help="what the input is a picture of (the page's words)")
    p.add_argument("--input-shape", type=_csv_ints, default=None,
                   help="C,H,W of one input (PyTorch files do not record it; ONNX files "
                        "with a symbolic size)")
    p.add_argument("--spec", type=Path, default=None,
                   help="architecture for a PyTorch state_dict: a ConvScope JSON spec")
    p.add_argument("--dataset", default="imported", help="dataset name for the model card")
    p.add_argument("--logits", action="store_true",
                   help="keep a model that ends on its scores as it is (by default ConvScope "
                        "adds the softmax CrossEntropyLoss applies, so the page shows class "
                        "probabilities)")
    p.add_argument("--label", default=None,
                   help=f"what the page's model selector shows, e.g. \"Week 3 · my LeNet\" "
                        f"(at most {LABEL_MAX} characters; default: the --out file's name)")
    p.set_defaults(run=run_import)


LABEL_MAX = 60     # the model selector's room


def check_label(label):
    """A model's label for the selector: one line of at most LABEL_MAX characters, or None."""
    from engine.errors import ImportRefused
    if label is None:
        return None
    text = " ".join(str(label).split())
    if not text or len(text) > LABEL_MAX:
        raise ImportRefused(f"--label: {len(text)} characters; give 1 to {LABEL_MAX} (what "
                            f"the page's model selector shows)")
    return text


def input_declaration(shape, preprocess=None, mean=None, std=None, pad=None, subject=None):
    """The imported model's input declaration (engine.inputspec) from the command's options."""
    from engine.inputspec import check_declaration
    c, h, _ = shape
    if preprocess is None:
        preprocess = "mnist" if c == 1 and h in (28, 32) else "resize"
    decl = {"preprocess": preprocess}
    if pad is None:
        pad = (h - 28) // 2 if preprocess == "mnist" else 0
    decl["pad"] = pad
    if preprocess != "mnist":
        decl["crop"] = c == 1
    for key, value in (("mean", mean), ("std", std), ("subject", subject)):
        if value is not None:
            decl[key] = value
    return check_declaration(decl, shape)


def import_model(source: Path, out: Path, classes=None, preprocess=None, mean=None, std=None,
                 pad=None, subject=None, input_shape=None, spec_file=None,
                 dataset="imported", log=print, label=None, logits=False):
    """Read, verify, and write only if every stage agrees. Returns (network, checks, seconds).
    Raises ImportRefused (with the per-stage report when verification fails)."""
    from engine.errors import ImportRefused
    from engine.importers import common

    start = time.perf_counter()
    label = check_label(label)
    spec = load_spec(str(spec_file)) if spec_file is not None else None
    if str(source).lower().endswith(".onnx"):
        if spec is not None:
            raise ImportRefused("--spec is for PyTorch state_dicts; an ONNX file carries its "
                                "own architecture")
        from engine.importers import onnx_import
        imported = onnx_import.read(source, input_shape)
    else:
        from engine.importers import torch_import
        imported = torch_import.read(source, spec, input_shape)
    imported = common.two_class_binary(imported)
    if not logits:
        imported = common.add_softmax(imported)
    from engine.parallel import blas_threads
    with blas_threads(1):    # one image at a time: a second OpenBLAS thread only contends
        net, checks, _ = common.verify(imported)
    table = common.report(checks)
    reference = "ONNX Runtime" if imported.source == "onnx" else "PyTorch"
    if not all(c.ok for c in checks):
        bad = ", ".join(c.name for c in checks if not c.ok)
        raise ImportRefused(f"{source}: stage(s) {bad} differ from {reference} beyond float32 "
                            f"tolerance; nothing written.\n{table}")
    shape = net.stages[0]["shape"]
    decl = input_declaration(shape, preprocess, mean, std, pad, subject)
    names = None if classes is None else [c.strip() for c in classes.split(",")]
    meta = common.metadata(imported, net, checks, names, decl,
                           out.name.removesuffix(".npz"), dataset)
    if label is not None:
        meta["label"] = label
    out.parent.mkdir(parents=True, exist_ok=True)
    net.save(out, meta)
    seconds = time.perf_counter() - start
    log(f"every stage equals {reference} on {common.VERIFY_INPUTS} inputs:\n{table}")
    for note in imported.notes:
        log(f"note: {note}")
    return net, checks, seconds


def run_import(args) -> int:
    from engine.errors import ImportRefused
    if not str(args.out).endswith(".npz"):
        return _fail("import", f"--out {args.out}: a ConvScope model is an .npz file")
    try:
        net, _, seconds = import_model(
            args.source, args.out, args.classes, args.input_preprocess, args.mean, args.std,
            args.input_pad, args.subject, args.input_shape, args.spec, args.dataset,
            log=lambda text: print(text, file=sys.stderr), label=args.label,
            logits=args.logits)
    except ImportRefused as exc:
        return _fail("import", str(exc))
    except EngineError as exc:
        return _fail("import", str(exc))
    except OSError as exc:
        return _fail("import", f"cannot write {exc.filename or args.out}: {exc.strerror or exc}")
    print(f"wrote {args.out}: {net!r}, verified in {seconds:.1f} s; serve it with "
          f"`convscope serve --model {args.out}`")
    return 0
