"""A second training run from another seed, keeping only conv1: "filters differ because they
start different".

The Learn view shows the 6 conv1 kernels at random init and after training for the shipped
run (seed 0, its full history) beside a run that differs only in its seed: same spec, data,
recipe settings and length (`--like` copies them from the model's history) and code, so the
learned filters differ because the starting weights did. Only conv1's snapshots are kept (150
weights + 6 biases each), so the file is a few kB:

    python -m engine.seeds --data /path/to/mnist --like models/lenet-mnist.history.npz \\
        --seed 1 --out models/lenet-mnist.seed1.history.npz

`run_differences` says in words what else differs between two recorded runs (the page's
caption is built from it, never typed), e.g. "5 epochs instead of 60" for a shortened run.

The file has the `engine.history` format (curves and snapshots; `meta.layers == ["conv1"]`
and `meta.config.seed` says which seed), so `History.load` reads it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.history import History
from engine.spec import names_of_kind


# Settings that say which run this is or how it is recorded, not how it trains. (The length,
# `epochs`, is part of the recipe: the cosine schedule cools over it.)
NOT_RECIPE = ("seed", "snapshots", "blas_threads")


def keep_layers(history: History, layers=None) -> History:
    """The same history with only `layers` (default: the first conv layer, by kind) in its
    snapshots (curves untouched)."""
    if layers is None:
        layers = names_of_kind(history.spec, "conv")[:1]
    slim = History(history.spec, history.steps_per_epoch, dict(history.config),
                   probe=history.probe, data=dict(history.data))
    slim.curves = {k: list(v) for k, v in history.curves.items()}
    slim.step_loss, slim.step_total_error = list(history.step_loss), list(history.step_total_error)
    slim.snapshots = [(dict(info), {name: weights[name] for name in layers})
                      for info, weights in history.snapshots]
    return slim


def _setting(key: str, value) -> str:
    if key == "epochs":
        return f"{value} epoch{'' if value == 1 else 's'}"
    return f"{key.replace('_', ' ')} {value}"


def run_differences(main: History, other: History, main_digest: str = "") -> list[str]:
    """What differs between two recorded runs besides the seed (and how they were recorded),
    in words, e.g. ["5 epochs instead of 60"]; [] when network, data and recipe are the same.

    The data is the same when both runs name the same data digest (`History.data`; the main
    run's may come from its model file's metadata, `main_digest`, for histories recorded before
    histories carried it); a run that names none cannot be claimed to match."""
    out = []
    if other.spec != main.spec:
        out.append("a different network")
    a, b = main.data.get("digest") or main_digest, other.data.get("digest")
    if a and b and a != b:
        out.append("different training data")
    elif not (a and b):
        out.append("training data not recorded")
    elif other.steps_per_epoch != main.steps_per_epoch:   # same files, another subset or batch
        out.append(f"{other.steps_per_epoch} steps per epoch instead of {main.steps_per_epoch}")
    keys = [k for k in {**main.config, **other.config} if k not in NOT_RECIPE]
    for key in keys:
        mine, theirs = main.config.get(key), other.config.get(key)
        if mine != theirs:
            out.append(f"{_setting(key, theirs)} instead of {mine}")
    return out


def seed_paths(model_path) -> list[Path]:
    """Second-seed histories recorded beside a model: <stem>.seed<N>.history.npz, by seed."""
    model_path = Path(model_path)
    stem = model_path.name.removesuffix(".npz")
    found = model_path.parent.glob(f"{stem}.seed*.history.npz")

    def seed_of(p: Path):
        tail = p.name[len(stem) + len(".seed"):].removesuffix(".history.npz")
        return int(tail) if tail.isdigit() else None

    return sorted((p for p in found if seed_of(p) is not None), key=seed_of)


def main(argv=None) -> int:
    from engine.data import load_mnist
    from engine.train import train
    from engine.zoo import get_spec

    p = argparse.ArgumentParser(prog="python -m engine.seeds", description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="MNIST-format directory (IDX files)")
    p.add_argument("--spec", default="reference", help="engine/zoo.py name (reference, harley)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--epochs", type=int, help="default: the --like run's (else 60)")
    p.add_argument("--snapshots", type=int, default=16)
    p.add_argument("--like", help="a model's history whose recipe to copy (all settings but "
                                  "seed and snapshots), e.g. models/lenet-mnist.history.npz")
    p.add_argument("--out", required=True, help="e.g. models/lenet-mnist.seed1.history.npz")
    args = p.parse_args(argv)
    data = load_mnist(args.data)
    spec, recipe = get_spec(args.spec), {}
    if args.like:
        like = History.load(args.like)
        spec = like.spec
        recipe = {k: v for k, v in like.config.items() if k not in NOT_RECIPE}
    _, history = train(spec, data, epochs=args.epochs, progress=sys.stderr,
                       **{**recipe, "seed": args.seed, "snapshots": args.snapshots})
    keep_layers(history).save(args.out)
    acc = history.curves["test_accuracy"][-1]
    print(f"seed {args.seed}: {history.config['epochs']} epochs, test accuracy {100 * acc:.2f}%; "
          f"wrote {args.out}", file=sys.stderr)
    if args.like:
        print("differs from --like besides the seed: "
              + ("; ".join(run_differences(like, history)) or "nothing"), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
