"""The `reglab` command line: parses arguments and calls library functions, nothing more.

Every user mistake surfaces as a :class:`reglab.errors.ReglabError`; here it becomes one
line on stderr and exit status 2, never a traceback. Ctrl-C stays Ctrl-C (exit 130).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reglab._version import __version__
from reglab.errors import ReglabError

DEFAULT_STORE = "reglab.db"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reglab",
        description="Train neural networks and study what regularization does to overfitting.",
    )
    parser.add_argument("--version", action="version", version=f"reglab {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser("demo", help="run the built-in study and write its report")
    demo.add_argument(
        "--dataset",
        default="digits",
        help="digits (embedded, about a minute on 2 cores) or fashion_mnist (when installed)",
    )
    demo.add_argument("--store", default=None, help="SQLite store (default: OUT/reglab.db)")
    demo.add_argument("--out", default="reglab-out", help="folder for the store and the report")
    _add_run_options(demo)

    run = commands.add_parser("run", help="train every variant x seed x fold of a study spec")
    run.add_argument("spec", type=Path, help="the study spec (TOML)")
    run.add_argument(
        "--store", default=DEFAULT_STORE, help=f"SQLite store (default {DEFAULT_STORE})"
    )
    run.add_argument("-o", "--output", default=None, help="report path (default STUDY.html)")
    _add_run_options(run)

    runs = commands.add_parser("runs", help="list the studies in a store, or one study's runs")
    runs.add_argument("study", nargs="?", default=None)
    runs.add_argument("--store", default=DEFAULT_STORE)

    report = commands.add_parser("report", help="write a study's self-contained HTML report")
    report.add_argument("study")
    report.add_argument("--store", default=DEFAULT_STORE)
    report.add_argument("-o", "--output", default=None, help="report path (default STUDY.html)")

    commands.add_parser("datasets", help="list known datasets, where each was found, how to get it")
    return parser


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument(
        "--executor",
        default="local",
        choices=["local", "ray"],
        help="local: this process; ray: populations as Ray tasks (pip install reglab[ray])",
    )
    parser.add_argument(
        "--address",
        default=None,
        metavar="HOST:PORT",
        help="the Ray cluster's head, or 'auto' (default: a local Ray on 127.0.0.1)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        metavar="N",
        help="CPU threads (default: OMP_NUM_THREADS and CPU affinity); on Ray, each task's CPUs",
    )
    parser.add_argument("--tensorboard", default=None, metavar="DIR", help="also log to DIR")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def _run_and_report(args: argparse.Namespace, spec, store: Path, output) -> int:
    from reglab.report import export_tensorboard, write_report
    from reglab.study import run_study

    outcome = run_study(
        spec, store=store, device=args.device, executor=args.executor, address=args.address,
        threads=args.threads, progress=not args.quiet,
    )  # fmt: skip
    path = write_report(store, outcome.study, output)
    print(f"store:  {store}")
    print(f"report: {path}")
    if args.tensorboard:
        logs = export_tensorboard(store, outcome.study, args.tensorboard)
        print(f"tensorboard: {args.tensorboard} ({len(logs)} runs)")
    return 0


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "datasets":
        from reglab.data import print_datasets

        print_datasets()
        return 0
    if args.command == "runs":
        from reglab.study import print_runs

        print_runs(Path(args.store), args.study)
        return 0
    if args.command == "report":
        from reglab.report import write_report

        print(write_report(Path(args.store), args.study, args.output))
        return 0
    if args.command == "run":
        return _run_and_report(args, args.spec, Path(args.store), args.output)
    if args.command == "demo":
        from reglab.study import demo_spec

        out = Path(args.out)
        store = Path(args.store) if args.store else out / "reglab.db"
        spec = demo_spec(args.dataset)
        return _run_and_report(args, spec, store, out / f"{spec.name}.html")
    return 2


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``reglab`` console script; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return _dispatch(args)
    except ReglabError as error:
        print(f"reglab: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "reglab: interrupted; rerun the same command to finish what is missing.",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
