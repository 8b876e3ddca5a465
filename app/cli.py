"""The `convscope` command: serve the app, train, evaluate or import a model.

Each subcommand's options and work live beside the code they drive: `serve` in
`app/server.py`, `train` and `evaluate` in `engine/commands.py` (the engine knows nothing of
HTTP, and training needs no web stack). This module only wires them together.
"""
from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="convscope",
        description="ConvScope: watch a trained ConvNet read your digit, stage by stage.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{serve,train,evaluate,import}")

    from app.config import SHIPPED_MODEL, TRAIN_DATA, TRAIN_OUT
    from app.server import add_serve_command
    from engine.commands import add_evaluate_command, add_import_command, add_train_command

    add_serve_command(sub)
    add_train_command(sub, data=TRAIN_DATA, out=TRAIN_OUT)
    add_evaluate_command(sub, data=TRAIN_DATA, model=SHIPPED_MODEL)
    add_import_command(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Each add_*_command sets `run` on its subparser: run(args) -> exit code.
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
