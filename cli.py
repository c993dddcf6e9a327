"""The `gocluster-faq` command: index, ask, eval, train, bench, serve, staff, staff-user.
Errors become one-line messages."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from indexer.errors import FaqError
from indexer.settings import Settings


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s %(message)s", stream=sys.stderr)
    try:
        settings = Settings.from_env().with_overrides(
            corpus_dir=getattr(args, "corpus", None), index_dir=getattr(args, "index", None))
        return int(args.func(args, settings) or 0)
    except FaqError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from bot.factory import build_embedder, build_index

    if args.out:
        settings = settings.with_overrides(index_dir=args.out)
    embedder = build_embedder(settings)
    report = build_index(settings, embedder, show_progress=not args.quiet).build(
        settings.corpus_dir, settings.index_dir)
    print(report.summary())
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.batch import answer_jsonl, print_answer
    from bot.factory import build_bot

    bot = build_bot(settings, progress=lambda msg: print(msg, file=sys.stderr))
    if args.jsonl:
        return answer_jsonl(bot, sys.stdin.buffer, sys.stdout, sys.stderr)
    if not args.question:
        raise FaqError("Give a question, e.g. gocluster-faq ask \"Wer darf sich bewerben?\", or use --jsonl.")
    answer = bot.answer(" ".join(args.question))
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print_answer(answer, sys.stdout)
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from evaluation.run import run_cli

    return run_cli(args, settings)


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    from evaluation.train import run_cli

    return run_cli(args, settings)


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from evaluation.bench import run_bench

    return run_bench(args, settings)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import app

    overrides = {"host": args.host, "port": args.port}
    return app.main(settings.with_overrides(**overrides))


def cmd_staff(args: argparse.Namespace, settings: Settings) -> int:
    import app

    return app.staff_main(settings.with_overrides(host=args.host, staff_port=args.port))


def cmd_staff_user(args: argparse.Namespace, settings: Settings) -> int:
    from ui.accounts import Accounts

    accounts = Accounts(settings.staff_users_file)
    if args.action == "list":
        print("\n".join(accounts.names()) or "no staff account yet")
        return 0
    if not args.name:
        raise FaqError(f"Name the account: gocluster-faq staff-user {args.action} NAME")
    if args.action == "remove":
        accounts.remove(args.name)
        print(f"removed {args.name}")
        return 0
    accounts.add(args.name, _read_password(args.password_stdin))
    print(f"saved {args.name} in {settings.staff_users_file}")
    return 0


def _read_password(from_stdin: bool) -> str:
    """One line from stdin (for scripts), else asked twice without echo."""
    import getpass

    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat: ") != first:
        raise FaqError("The two passwords differ; nothing was saved.")
    return first


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gocluster-faq", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    parser.add_argument("--index", type=Path, help="index folder (default: var/index)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="build or update the index of the corpus")
    p.add_argument("--corpus", type=Path, help="corpus folder (default: corpus/)")
    p.add_argument("--out", type=Path, help="index folder to write (default: var/index)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("ask", help="answer a question (or JSON lines on stdin with --jsonl)")
    p.add_argument("question", nargs="*")
    p.add_argument("--corpus", type=Path, help="corpus folder, used if the index must be built")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print the answer as JSON")
    fmt.add_argument("--jsonl", action="store_true",
                     help='read {"id": ..., "question": ...} lines on stdin, write one answer line each')
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("eval", help="evaluate answers on question sets and write a report")
    p.add_argument("--qa", type=Path, action="append", help="question file(s) (JSON lines) instead of the splits")
    p.add_argument("--conversations", type=Path, action="append",
                   help="conversation file(s) (JSON lines) instead of the splits")
    p.add_argument("--out", type=Path,
                   help="report folder (default: var/eval; with --compare: var/eval, the latest comparison)")
    p.add_argument("--split", choices=["dev", "test", "all"], default="all")
    p.add_argument("--no-baselines", action="store_true", help="only the project's pipeline")
    p.add_argument("--gate", action="store_true",
                   help="fail when a bound in evaluation/thresholds.toml is missed on the test split")
    p.add_argument("--compare", type=Path, nargs=2, metavar=("OLD_REPORT", "NEW_REPORT"),
                   help="compare two reports (report.json or its folder) question by question")
    p.add_argument("--feedback", type=Path,
                   help="turn thumbs-down feedback in this SQLite file into candidate questions")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("train", help="fit the answer selector on the development split (bot/selector.json)")
    p.add_argument("--out", type=Path, help="where to write the selector (default: bot/selector.json)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("bench", help="benchmark against the plain LangChain recipe")
    p.add_argument("--out", type=Path, default=Path("var/bench"))
    p.add_argument("--questions", type=int, default=200)
    p.add_argument("--cold-runs", type=int, default=3, help="fresh `ask` processes per system (median)")
    p.add_argument("--app-answers", type=int, default=100, help="answers before the app's memory is read")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("serve", help="start the public web app (chat, hotline look-up, API)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("staff", help="start the staff app (login; feedback, exports, documents)")
    p.add_argument("--host")
    p.add_argument("--port", type=int, help="default 7861 (GOCLUSTER_STAFF_PORT)")
    p.set_defaults(func=cmd_staff)

    p = sub.add_parser("staff-user", help="add, remove or list the staff app's accounts")
    p.add_argument("action", choices=["add", "remove", "list"])
    p.add_argument("name", nargs="?")
    p.add_argument("--password-stdin", action="store_true", help="read the password as one line on stdin")
    p.set_defaults(func=cmd_staff_user)
    return parser


if __name__ == "__main__":
    sys.exit(main())
