"""How a ``jwtkit`` command is declared and parsed: a thin layer over :mod:`argparse`.

Why argparse and not click: ``jwtkit verify`` runs in shell loops, and importing click alone
costs about 3x ``python -c pass``, most of the start-up budget (issue 17). argparse is in
the standard library and loads in a fraction of that. This module gives it the shape the
commands need: one :class:`Command` per verb (declared in its own module, imported only when
it runs), :class:`Group` for verbs with subcommands (``keys``, ``user``, ``client``), help
on stdout with examples, and usage errors raised as :class:`UsageError` (one line, exit 2)
instead of argparse's print-and-exit.
"""

from __future__ import annotations

import argparse
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path
    from typing import Any, NoReturn

    from jwtkit.cli.env import Env

    Run = Callable[[argparse.Namespace, Env], int | None]

__all__ = [
    "Command",
    "Group",
    "HelpShown",
    "Parser",
    "UsageError",
    "choice",
    "duration",
    "existing_file",
    "file_path",
    "int_range",
    "integer",
    "moment",
]

OPTIONS_WIDTH = 100


class UsageError(Exception):
    """The command line is wrong; ``command_path`` names the command whose --help helps."""

    def __init__(self, message: str, command_path: str) -> None:
        super().__init__(message)
        self.message = message
        self.command_path = command_path


class HelpShown(Exception):  # noqa: N818 (control flow, not an error)
    """Help or the version was printed; the run ends with ``status``."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's layout with click's headings (``Usage:``) and a 100-column limit."""

    def __init__(self, prog: str) -> None:
        # argparse builds a formatter for every add_argument call, so this stays cheap: no
        # shutil (as argparse's default would import) on the start-up path.
        super().__init__(prog, max_help_position=34, width=min(OPTIONS_WIDTH, _columns()) - 2)

    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
        """Start the help with ``Usage: `` as click did."""
        super().add_usage(usage, actions, groups, "Usage: ")


def _columns() -> int:
    """Return the terminal width as shutil.get_terminal_size would (COLUMNS, else stdout)."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(1).columns
    except OSError:
        return 80


class _HelpAction(argparse.Action):
    """``-h``/``--help``: print the help on the run's stdout and end the run (status 0)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(
            option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0, **kwargs
        )

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        """Print the help of the command being parsed."""
        parser.env.stdout.write(parser.format_help())
        raise HelpShown(0)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser that writes to an :class:`Env` and raises instead of exiting."""

    def __init__(self, prog: str, env: Env, *, usage: str, help: str, epilog: str) -> None:
        super().__init__(
            prog=prog,
            usage=f"{prog} {usage}".rstrip(),
            description=help,
            epilog=epilog,
            formatter_class=_Formatter,
            add_help=False,
            allow_abbrev=False,
        )
        self.env = env
        self.valued: set[str] = set()
        self.options = self.add_argument_group("Options")

    def option(
        self,
        *names: str,
        help: str,
        choices: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        """Add an option that takes a value; ``choices`` are checked with click's message."""
        if choices is not None:
            kwargs.setdefault("type", choice(choices))
            kwargs.setdefault("metavar", "[" + "|".join(choices) + "]")
        if kwargs.get("action") in (None, "store", "append"):
            self.valued.update(names)
        self.options.add_argument(*names, help=help, **kwargs)

    def flag(self, *names: str, help: str, **kwargs: Any) -> None:
        """Add an on/off option (``store_true`` unless an action is given)."""
        kwargs.setdefault("action", "store_true")
        self.options.add_argument(*names, help=help, **kwargs)

    def argument(self, dest: str, metavar: str, **kwargs: Any) -> None:
        """Add a positional argument (shown in the usage line, not in the option list)."""
        self.add_argument(dest, metavar=metavar, help=argparse.SUPPRESS, **kwargs)

    def add_help_option(self) -> None:
        """Add ``-h``/``--help`` last, where click listed it."""
        self.options.add_argument(
            "-h", "--help", action=_HelpAction, help="Show this message and exit."
        )

    def parse_into(self, argv: Sequence[str], namespace: argparse.Namespace) -> None:
        """Parse ``argv`` into ``namespace``; unknown options or extra arguments are errors."""
        _, extra = self.parse_known_args(self._dashed_values_last(argv), namespace)
        for item in extra:
            if item.startswith("-") and item != "-":
                self.error_line(f"No such option '{item.split('=', 1)[0]}'.")
        if extra:
            self.error_line(f"Got unexpected extra argument ({' '.join(extra)})")

    def _dashed_values_last(self, argv: Sequence[str]) -> list[str]:
        """Move values that merely start with ``-`` (a kid is an RFC 7638 thumbprint: about one
        in 64 starts with ``-``) behind a ``--``, so they are read as the argument they are.

        A value counts as one when it is no option of this command, is not an option's value,
        and is a long base64url word (``-`` and at least 20 more characters): no option or run
        of short flags looks like that. Every command takes at most one argument, so moving it
        to the end changes nothing else.
        """
        items = list(argv)
        if "--" in items:
            return items
        values: list[int] = []
        for i, item in enumerate(items):
            if (
                len(item) > 20
                and item[0] == "-"
                and item.split("=", 1)[0] not in self._option_string_actions
                and not (i and items[i - 1] in self.valued)
                and all(c.isascii() and (c.isalnum() or c in "-_") for c in item)
            ):
                values.append(i)
        if not values:
            return items
        moved = [items[i] for i in values]
        return [item for i, item in enumerate(items) if i not in values] + ["--", *moved]

    def error_line(self, message: str) -> NoReturn:
        """Raise a UsageError that points at this command's --help."""
        raise UsageError(message, self.prog)

    def error(self, message: str) -> NoReturn:
        """Turn argparse's complaint into click's wording, raised as a UsageError."""
        required = "the following arguments are required: "
        if message.startswith(required):
            first = message[len(required) :].split(", ")[0]
            self.error_line(f"Missing argument '{first}'.")
        if message.startswith("argument "):
            name, _, reason = message[len("argument ") :].partition(": ")
            name = name.split("/")[-1]
            if reason.startswith("expected one argument"):
                self.error_line(f"Option '{name}' requires an argument.")
            self.error_line(f"Invalid value for '{name}': {reason}")
        self.error_line(message[:1].upper() + message[1:])

    def split_at_command(self, argv: Sequence[str]) -> tuple[list[str], str | None, list[str]]:
        """Split ``argv`` into this group's options, the subcommand name and the rest."""
        items = list(argv)
        index = 0
        while index < len(items):
            item = items[index]
            if item == "--" or not item.startswith("-") or item == "-":
                break
            index += 2 if item in self.valued else 1
        head = items[: min(index, len(items))]
        if index >= len(items) or items[index] == "--":
            return head, None, items[index + 1 :] if index < len(items) else []
        return head, items[index], items[index + 1 :]


class _Verb:
    """What a Command and a Group share: a name, help text, examples and own options."""

    __slots__ = ("arguments", "epilog", "help", "name")

    def __init__(
        self, name: str, help: str, epilog: str, arguments: Callable[[Parser], None] | None
    ) -> None:
        self.name = name
        self.help = help
        self.epilog = epilog
        self.arguments = arguments

    @property
    def summary(self) -> str:
        """The first line of the help (shown in the parent's command list)."""
        return self.help.split("\n", 1)[0]

    def _parser(self, prog: str, env: Env, usage: str, epilog: str) -> Parser:
        parser = Parser(prog, env, usage=usage, help=self.help, epilog=epilog)
        if self.arguments is not None:
            self.arguments(parser)
        parser.add_help_option()
        return parser


class Command(_Verb):
    """One verb: its help text, how it declares its arguments, and the function it runs.

    ``help`` is the docstring-like text (a summary line, then paragraphs); ``epilog`` holds
    the examples. ``run(args, env)`` returns an exit status (None means 0) or raises.
    """

    __slots__ = ("run", "usage")

    def __init__(
        self,
        name: str,
        *,
        help: str,
        epilog: str,
        usage: str = "[OPTIONS]",
        arguments: Callable[[Parser], None] | None = None,
        run: Run,
    ) -> None:
        super().__init__(name, help, epilog, arguments)
        self.usage = usage
        self.run = run

    def parser(self, prog: str, env: Env) -> Parser:
        """Build this command's parser."""
        return self._parser(prog, env, self.usage, self.epilog)

    def dispatch(
        self, argv: Sequence[str], namespace: argparse.Namespace, env: Env, prog: str
    ) -> int:
        """Parse ``argv`` and run the command."""
        self.parser(prog, env).parse_into(argv, namespace)
        status = self.run(namespace, env)
        return 0 if status is None else int(status)


class Group(_Verb):
    """A verb with subcommands; its options come before or, where redeclared, after them.

    ``commands`` maps each name to its Command or Group, or to a callable that imports and
    returns it (so the top level loads only the command that runs); ``summaries`` gives the
    one-line help of lazily loaded commands.
    """

    __slots__ = ("commands", "summaries")

    def __init__(
        self,
        name: str,
        *,
        help: str,
        epilog: str,
        commands: Mapping[str, Command | Group | Callable[[], Command | Group]],
        summaries: Mapping[str, str] | None = None,
        arguments: Callable[[Parser], None] | None = None,
    ) -> None:
        super().__init__(name, help, epilog, arguments)
        self.commands = commands
        self.summaries = summaries or {}

    def find(self, name: str) -> Command | Group | None:
        """Return the subcommand ``name`` (importing it if it is lazy), or None."""
        entry = self.commands.get(name)
        if entry is None or isinstance(entry, Command | Group):
            return entry
        return entry()

    def _listing(self) -> str:
        rows = []
        for name, entry in self.commands.items():
            summary = self.summaries.get(name)
            if summary is None and isinstance(entry, Command | Group):
                summary = entry.summary
            rows.append((name, summary or ""))
        width = max(len(name) for name, _ in rows)
        return "Commands:\n" + "\n".join(f"  {n:<{width}}  {s}".rstrip() for n, s in rows)

    def parser(self, prog: str, env: Env) -> Parser:
        """Build this group's parser (its own options and the list of subcommands)."""
        epilog = self._listing() + ("\n\n" + self.epilog if self.epilog else "")
        return self._parser(prog, env, "[OPTIONS] COMMAND [ARGS]...", epilog)

    def dispatch(
        self, argv: Sequence[str], namespace: argparse.Namespace, env: Env, prog: str
    ) -> int:
        """Parse the group's options, then hand the rest to the named subcommand.

        With no subcommand the help goes to stderr and the status is 2, as click did.
        """
        parser = self.parser(prog, env)
        head, name, rest = parser.split_at_command(argv)
        parser.parse_into(head, namespace)
        if name is None:
            env.stderr.write(parser.format_help())
            return 2
        sub = self.find(name)
        if sub is None:
            parser.error_line(f"No such command '{name}'.")
        return sub.dispatch(rest, namespace, env, f"{prog} {name}")


# -- value types: each raises ArgumentTypeError with click's wording -------------------------


def choice(values: Sequence[str]) -> Callable[[str], str]:
    """Return a converter that accepts exactly one of ``values``."""

    def convert(text: str) -> str:
        if text in values:
            return text
        listed = ", ".join(repr(v) for v in values)
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {listed}.")

    return convert


def duration(text: str) -> int:
    """Convert ``15m``-style text to whole seconds."""
    from jwtkit.cli._parse import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def moment(text: str) -> float:
    """Convert seconds since 1970 or an ISO 8601 date/time (UTC unless it says) to seconds."""
    from jwtkit.cli._parse import parse_time

    try:
        return parse_time(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def integer(text: str) -> int:
    """Convert decimal text to an int."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid integer.") from None


def int_range(low: int, high: int) -> Callable[[str], int]:
    """Return a converter to an int between ``low`` and ``high`` inclusive."""

    def convert(text: str) -> int:
        value = integer(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not in the range {low}<=x<={high}.")
        return value

    return convert


def file_path(text: str) -> Path:
    """Convert to a Path that is not a directory (it need not exist)."""
    from pathlib import Path  # lazy: pathlib is not on the start-up path of verify

    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"File {text!r} is a directory.")
    return path


def existing_file(text: str) -> Path:
    """Convert to the Path of an existing file."""
    path = file_path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"File {text!r} does not exist.")
    return path
