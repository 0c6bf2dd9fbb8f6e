"""The `reglab` command line: parses arguments and calls library functions, nothing more.

Every user mistake surfaces as a :class:`reglab.errors.ReglabError`; here it becomes one
line on stderr and exit status 2, never a traceback (argparse's own complaints too).
Ctrl-C stays Ctrl-C (exit 130, one line), also while the libraries are still importing:
only the standard library is imported before :func:`main` starts its ``try``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from reglab._version import __version__
from reglab.errors import ReglabError

DEFAULT_STORE = "reglab.db"


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors in reglab's one-line format (usage stays in --help)."""

    def error(self, message: str):
        print(f"reglab: error: {self.prog}: {message} (see `{self.prog} --help`)", file=sys.stderr)
        sys.exit(2)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="reglab",
        description="Train neural networks and study what regularization does to overfitting.",
    )
    parser.add_argument("--version", action="version", version=f"reglab {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser("demo", help="run a shipped study and write its report")
    demo.add_argument(
        "name", nargs="?", default=None, help="the shipped study (default digits; see --list)"
    )
    demo.add_argument("--list", action="store_true", help="list the shipped studies and exit")
    demo.add_argument(
        "--dataset",
        default=None,
        help="digits (embedded, about a minute on 2 cores) or fashion_mnist (when installed): "
        "the two demos named for their dataset",
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
    parser.add_argument(
        "--trust-data",
        action="append",
        default=[],
        metavar="FILE",
        help="skip the published checksum of this data file (one you made or vouch for); "
        "repeatable. Pickled arrays are read by the restricted reader either way",
    )


def _given(value: str | None, flag: str) -> str | None:
    if value is not None and not value.strip():
        raise ReglabError(f"Invalid value for `{flag}`: expected a path. Received: {value!r}.")
    return value


def _run_and_report(args: argparse.Namespace, spec, store: Path, output) -> int:
    from reglab.report import export_tensorboard, write_report
    from reglab.report.outputs import check_log_dir, check_output_file, report_path
    from reglab.study import load_spec, run_study

    spec = load_spec(spec) if isinstance(spec, Path) else spec
    for file in args.trust_data:
        if not Path(file).is_file():
            raise ReglabError(
                f"Invalid value for `--trust-data`: {file!r} is not a file; give the path of "
                "a data file you vouch for (`reglab datasets` shows where each was found)."
            )
    # Everything written after training is checked before it starts.
    check_output_file(report_path(spec.name, output))
    if args.tensorboard is not None:
        check_log_dir(args.tensorboard)
    outcome = run_study(
        spec, store=store, device=args.device, executor=args.executor, address=args.address,
        threads=args.threads, progress=not args.quiet, trusted=list(args.trust_data) or False,
    )  # fmt: skip
    path = write_report(store, outcome.study, output)
    print(
        f"runs:   {outcome.trained} trained now, {outcome.skipped} stored already or by "
        f"another runner, {outcome.diverged} diverged, {outcome.failed} failed"
    )
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

        print_runs(Path(_given(args.store, "--store")), args.study)
        return 0
    if args.command == "report":
        from reglab.report import write_report

        output = _given(args.output, "-o")
        print(write_report(Path(_given(args.store, "--store")), args.study, output))
        return 0
    if args.command == "run":
        store, output = _given(args.store, "--store"), _given(args.output, "-o")
        return _run_and_report(args, args.spec, Path(store), output)
    if args.command == "demo":
        from reglab.study import demo_spec
        from reglab.study.demo import demo_lines

        if args.list and (args.name or args.dataset):
            raise ReglabError(
                "`reglab demo --list` lists every shipped study; drop the study's name to "
                "list them, or drop --list to run it."
            )
        if args.list:
            print("\n".join(demo_lines()))
            return 0
        if args.name is not None and args.dataset is not None and args.name != args.dataset:
            raise ReglabError(
                f"`reglab demo {args.name} --dataset {args.dataset}` names two demos; "
                "give the study's name alone (`reglab demo --list` shows them)."
            )
        out = Path(_given(args.out, "--out"))
        store = Path(_given(args.store, "--store") or out / "reglab.db")
        spec = demo_spec(args.name or args.dataset or "digits")
        return _run_and_report(args, spec, store, out / f"{spec.name}.html")
    return 2


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``reglab`` console script; returns the exit status."""
    try:
        parser = _parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
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


def entry() -> None:
    """The console script: :func:`main`, then exit with its status.

    After Ctrl-C the process ends at once with 130 (its one line already written): an
    interpreter shutting down can still die of the same SIGINT (seen once in CI, status
    -2 after the message), which would hide the status the documentation promises.
    """
    status = main()
    if status == 130:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    sys.exit(status)


if __name__ == "__main__":
    entry()
