"""Console script ``skillatlas`` (argparse subcommands contributed by modules).

A module contributes subcommands by defining ``register(subparsers)``, which calls
``subparsers.add_parser(...)`` and sets ``func`` (``parser.set_defaults(func=handler)``; the handler gets the
parsed ``argparse.Namespace`` and returns an exit code). List the module in :data:`COMMAND_MODULES`, or call
:func:`add_command_module` before :func:`main` (e.g. from a plugin). A listed module that cannot be
imported is skipped, so one broken optional dependency does not take the whole CLI down
(``skillatlas --debug`` shows why).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["COMMAND_MODULES", "add_command_module", "build_parser", "main"]

# modules that define register(subparsers); order = order in --help
COMMAND_MODULES: list[str] = [
    "skillatlas.evaluation.extraction",
    "skillatlas.evaluation.spans",
    "skillatlas.cli.query",
    "assets.health_cli",
]

_import_errors: dict[str, str] = {}


def add_command_module(module_name: str) -> None:
    """Register one more module providing ``register(subparsers)``."""
    if module_name not in COMMAND_MODULES:
        COMMAND_MODULES.append(module_name)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="skillatlas", description="skillatlas command line tools")
    parser.add_argument("--debug", action="store_true", help="show import problems of command modules")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            _import_errors[name] = repr(exc)
            continue
        register = getattr(module, "register", None)
        if callable(register):
            register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from skillatlas.settings import SettingsError

    try:
        return _main(argv)
    except SettingsError as exc:  # a bad SKILLATLAS_* value: one line naming the variable, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.debug:
        for name, err in _import_errors.items():
            print(f"command module {name} not loaded: {err}", file=sys.stderr)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    return int(func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
