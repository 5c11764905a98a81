"""``jwtkit keys``: the operator's console for the rotating, encrypted signing-key store.

Past 400 lines because it has one subcommand per operator task (init, list, rotate, revoke, jwks,
backup, restore, rewrap), each a thin adapter over ``KeyManager``; most of the length is argument
declarations and help text.
"""

from __future__ import annotations

from argparse import Namespace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jwtkit.cli._command import Command, Group, Parser, existing_file, file_path
from jwtkit.cli._errors import CLIError
from jwtkit.cli._io import emit_json, note, read_password, use_color, write_file
from jwtkit.cli._render import render_table
from jwtkit.cli._store import (
    add_store_options,
    add_store_overrides,
    master_key_configured,
    open_manager,
    read_master_key_file,
    redact,
    sqlite_path,
    store_params,
)
from jwtkit.cli.env import Env
from jwtkit.cli.status import ExitStatus
from jwtkit.errors import MasterKeyError
from jwtkit.jwa import ALGORITHMS, ASYMMETRIC_ALGORITHMS

if TYPE_CHECKING:
    from jwtkit.keys import KeyManager, KeyRecord, RotationPolicy

__all__ = ["COMMAND"]

# The key store signs with public-key algorithms only: verifiers get the JWKS, never a secret.
SIGNING_ALGS = [name for name in ALGORITHMS if name in ASYMMETRIC_ALGORITHMS]

MASTER_KEY_NOTICE = (
    "no master key was configured, so a new one was generated and printed on stdout: it is "
    "shown only this once. Keep it in a secret manager and set JWTKIT_MASTER_KEY to it (or "
    "put it in a 0600 file for --master-key-file); without it the keys cannot be used."
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def _short(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else "-"


def _record_json(rec: KeyRecord) -> dict[str, Any]:
    return {
        "kid": rec.kid,
        "alg": rec.alg,
        "state": rec.state,
        "created_at": _iso(rec.created_at),
        "activated_at": _iso(rec.activated_at),
        "retired_at": _iso(rec.retired_at),
        "revoked_at": _iso(rec.revoked_at),
    }


def _policy(alg: str | None) -> RotationPolicy | None:
    if alg is None:
        return None
    from jwtkit.keys import RotationPolicy  # lazy import

    return RotationPolicy(alg=alg)


def _manager(args: Namespace, alg: str | None = None) -> KeyManager:
    url, key_file = store_params(args)
    return open_manager(url, key_file, policy=_policy(alg))


def _confirm(env: Env, yes: bool, question: str) -> None:
    if not yes and not env.confirm(question):
        raise CLIError("cancelled, nothing changed", ExitStatus.ABORTED)


def _new_master_key(env: Env, out: Path | None) -> tuple[str, bool]:
    """Generate a master key; return it and whether it still has to be shown on stdout.

    With ``out`` the key is written (0600) before anything is encrypted under it, so a
    failed write never leaves a store whose master key was lost.
    """
    from jwtkit.keys import generate_master_key  # lazy import

    key = generate_master_key()
    if out is None:
        return key, True
    write_file(out, (key + "\n").encode(), private=True)
    note(env, f"wrote the new master key to {out} (mode 0600); use it with --master-key-file")
    return key, False


def _alg_option(parser: Parser, help: str) -> None:
    parser.option("--alg", choices=SIGNING_ALGS, help=help)


def _yes_option(parser: Parser) -> None:
    parser.flag("--yes", help="Do not ask for confirmation.")


# -- init ----------------------------------------------------------------------------------


def _init_arguments(parser: Parser) -> None:
    _alg_option(parser, "Algorithm of the first keys.")
    parser.option(
        "--master-key-out",
        metavar="FILE",
        type=file_path,
        help="Write a newly generated master key to this file (0600) instead of stdout.",
    )
    add_store_overrides(parser)


def _init(args: Namespace, env: Env) -> None:
    from jwtkit.keys import KeyManager  # lazy import

    url, key_file = store_params(args)
    alg, master_key_out = args.alg, args.master_key_out
    shown = None
    if master_key_configured(key_file) or url.startswith("memory:"):
        manager = KeyManager.open(url, master_key_file=key_file, policy=_policy(alg))
    else:
        fresh, show = _new_master_key(env, master_key_out)
        try:
            manager = KeyManager.open(url, fresh, policy=_policy(alg))
        except MasterKeyError:
            if master_key_out is not None:
                master_key_out.unlink(missing_ok=True)
            raise CLIError(
                f"the store {redact(url)} already exists: set JWTKIT_MASTER_KEY (or pass "
                "--master-key-file) to its master key",
                ExitStatus.STORE_ERROR,
            ) from None
        if show:
            shown = fresh
            note(env, MASTER_KEY_NOTICE)
    with manager:
        active = manager.active_key()
        result: dict[str, Any] = {"store": redact(url), "active": _record_json(active)}
        if shown is not None:
            result["master_key"] = shown
        note(env, f"key store {redact(url)} ready: active key {active.kid!r} ({active.alg})")
        emit_json(env, result)


INIT = Command(
    "init",
    help="Create the key store with an active and a pending key.\n"
    "\n"
    "Uses the configured master key; if none is configured, generates one and prints it\n"
    "once on stdout (or writes it to --master-key-out).",
    epilog="Examples:\n"
    "  jwtkit keys init\n"
    "  jwtkit keys --store sqlite:////var/lib/jwtkit/keys.db init --alg EdDSA "
    "--master-key-out /etc/jwtkit/master.key",
    arguments=_init_arguments,
    run=_init,
)


# -- list ----------------------------------------------------------------------------------


def _list_arguments(parser: Parser) -> None:
    parser.flag("--json", dest="as_json", help="Print the records as JSON.")
    add_store_overrides(parser)


def _list(args: Namespace, env: Env) -> None:
    with _manager(args) as manager:
        records = manager.records()
    if args.as_json:
        emit_json(env, [_record_json(r) for r in records])
        return
    rows = [
        [
            r.kid,
            r.alg,
            r.state,
            _short(r.created_at),
            _short(r.activated_at),
            _short(r.revoked_at or r.retired_at),
        ]
        for r in records
    ]
    columns = ["kid", "alg", "state", "created", "activated", "retired/revoked"]
    render_table(env, columns, rows, color=use_color(args, env), title="Keys")


LIST = Command(
    "list",
    help="Show every key: kid, algorithm, state and lifecycle dates.",
    epilog="Examples:\n  jwtkit keys list\n  jwtkit keys list --json | jq '.[].kid'",
    arguments=_list_arguments,
    run=_list,
)


# -- rotate --------------------------------------------------------------------------------


def _rotate_arguments(parser: Parser) -> None:
    _alg_option(
        parser,
        "Rotate only the key of this algorithm (one active key per signing algorithm; a new "
        "algorithm joins the store's signing algorithms).",
    )
    parser.flag(
        "--force",
        help="Promote the pending key even if it was published less than the publication "
        "delay (1 hour) ago: verifiers whose cached JWKS predates it reject its tokens until "
        "they fetch the JWKS again.",
    )
    add_store_overrides(parser)


def _rotate(args: Namespace, env: Env) -> None:
    from jwtkit.errors import KeyStateError

    with _manager(args, args.alg) as manager:
        try:
            active = manager.rotate(force=args.force, alg=args.alg)
        except KeyStateError as exc:
            raise CLIError(f"{exc} (jwtkit keys rotate --force)", ExitStatus.STORE_ERROR) from None
    if args.force:
        note(
            env,
            "forced: verifiers that cached the JWKS before the new key was published reject "
            "its tokens until they fetch the JWKS again",
        )
    note(
        env, f"rotated: {active.kid!r} now signs; the previous key verifies until its tokens expire"
    )
    emit_json(env, _record_json(active))


ROTATE = Command(
    "rotate",
    help="Activate the pending key of every signing algorithm once it has been published for "
    "the publication delay (--force: now); the old keys keep verifying until their tokens "
    "expire.",
    epilog="Examples:\n  jwtkit keys rotate --alg EdDSA\n  jwtkit keys rotate --force",
    arguments=_rotate_arguments,
    run=_rotate,
)


# -- revoke --------------------------------------------------------------------------------


def _revoke_arguments(parser: Parser) -> None:
    parser.argument("kid", "KID")
    _yes_option(parser)
    add_store_overrides(parser)


def _revoke(args: Namespace, env: Env) -> None:
    kid: str = args.kid
    with _manager(args) as manager:
        record = next((r for r in manager.records() if r.kid == kid), None)
        if record is None:
            raise CLIError(f"no key with kid {kid!r} in the store", ExitStatus.STORE_ERROR)
        extra = (
            " It is the active key: the pending key takes over at once."
            if record.state == "active"
            else ""
        )
        _confirm(
            env, args.yes, f"Revoke key {kid!r}? Every token it signed stops verifying now.{extra}"
        )
        revoked = manager.revoke(kid)
    note(env, f"revoked {kid!r}")
    emit_json(env, _record_json(revoked))


REVOKE = Command(
    "revoke",
    usage="[OPTIONS] KID",
    help="Revoke KID: it stops verifying at once and leaves the JWKS (no undo).",
    epilog="Example:\n  jwtkit keys revoke 3Zk9...Q --yes",
    arguments=_revoke_arguments,
    run=_revoke,
)


# -- jwks ----------------------------------------------------------------------------------


def _jwks(args: Namespace, env: Env) -> None:
    with _manager(args) as manager:
        emit_json(env, manager.jwks())


JWKS = Command(
    "jwks",
    help="Print the JWKS verifiers must trust now (pending, active, retired keys).",
    epilog="Example:\n  jwtkit keys jwks > public/.well-known/jwks.json",
    arguments=add_store_overrides,
    run=_jwks,
)


# -- backup --------------------------------------------------------------------------------


def _backup_arguments(parser: Parser) -> None:
    parser.argument("file", "FILE", type=file_path)
    parser.flag("--passphrase-stdin", help="Read the passphrase from stdin.")
    parser.flag("--force", help="Overwrite an existing file.")
    add_store_overrides(parser)


def _backup(args: Namespace, env: Env) -> None:
    file: Path = args.file
    if file.exists() and not args.force:
        raise CLIError(f"{str(file)!r} already exists (use --force to overwrite)")
    with _manager(args) as manager:
        passphrase = read_password(
            env, "backup passphrase", from_stdin=args.passphrase_stdin, confirm=True
        )
        try:
            manager.export_backup(file, passphrase)
        except ValueError as exc:
            raise CLIError(str(exc)) from None
        count = len(manager.records())
    note(env, f"backed up {count} keys to {file} (mode 0600)")
    emit_json(env, {"file": str(file), "keys": count})


BACKUP = Command(
    "backup",
    usage="[OPTIONS] FILE",
    help="Write every key, encrypted under a passphrase, to FILE (mode 0600).",
    epilog="Examples:\n  jwtkit keys backup keys.backup\n"
    "  pass show jwtkit-backup | jwtkit keys backup --passphrase-stdin keys.backup",
    arguments=_backup_arguments,
    run=_backup,
)


# -- restore -------------------------------------------------------------------------------


def _restore_arguments(parser: Parser) -> None:
    parser.argument("file", "FILE", type=existing_file)
    parser.flag("--passphrase-stdin", help="Read the passphrase from stdin.")
    parser.option(
        "--master-key-out",
        metavar="FILE",
        type=file_path,
        help="Write a newly generated master key to this file (0600) instead of stdout.",
    )
    _yes_option(parser)
    add_store_overrides(parser)


def _restore(args: Namespace, env: Env) -> None:
    from jwtkit.keys import KeyManager  # lazy import

    file: Path = args.file
    master_key_out: Path | None = args.master_key_out
    url, key_file = store_params(args)
    _confirm(env, args.yes, f"Restore the keys from {file} into {redact(url)}?")
    passphrase = read_password(
        env, "backup passphrase", from_stdin=args.passphrase_stdin, confirm=False
    )
    fresh, show = None, False
    if not master_key_configured(key_file) and not url.startswith("memory:"):
        path = sqlite_path(url)
        if path is not None and path.exists():
            raise CLIError(
                f"the store {redact(url)} already exists: set JWTKIT_MASTER_KEY (or pass "
                "--master-key-file) to its master key",
                ExitStatus.STORE_ERROR,
            )
        fresh, show = _new_master_key(env, master_key_out)
    try:
        manager = KeyManager.import_backup(
            file, passphrase, into=url, master_key=fresh, master_key_file=key_file
        )
    except BaseException:
        # The generated master key protects nothing yet: do not leave it behind.
        if fresh is not None and master_key_out is not None:
            master_key_out.unlink(missing_ok=True)
        raise
    with manager:
        count = len(manager.records())
    result: dict[str, Any] = {"store": redact(url), "keys": count}
    if show:
        result["master_key"] = fresh
        note(env, MASTER_KEY_NOTICE)
    note(env, f"restored {count} keys into {redact(url)}")
    emit_json(env, result)


RESTORE = Command(
    "restore",
    usage="[OPTIONS] FILE",
    help="Restore the keys in FILE into an empty store (created if needed).\n"
    "\n"
    "If no master key is configured, a new one is generated for the store and printed once.",
    epilog="Examples:\n  jwtkit keys --store sqlite:///new.db restore keys.backup\n"
    "  jwtkit keys restore --passphrase-stdin keys.backup < passphrase.txt",
    arguments=_restore_arguments,
    run=_restore,
)


# -- rewrap --------------------------------------------------------------------------------


def _rewrap_arguments(parser: Parser) -> None:
    parser.option(
        "--new-master-key-file",
        metavar="FILE",
        type=existing_file,
        help="Re-encrypt under the key in this file (else a new one is generated and printed).",
    )
    parser.option(
        "--master-key-out",
        metavar="FILE",
        type=file_path,
        help="Write a newly generated master key to this file (0600) instead of stdout.",
    )
    _yes_option(parser)
    add_store_overrides(parser)


def _rewrap(args: Namespace, env: Env) -> None:
    new_master_key_file: Path | None = args.new_master_key_file
    store = redact(store_params(args)[0])
    with _manager(args) as manager:
        _confirm(
            env,
            args.yes,
            "Re-encrypt every key under a new master key? Every process using the old one must "
            "be restarted with the new one.",
        )
        if new_master_key_file is not None:
            manager.rewrap(read_master_key_file(new_master_key_file))
            note(env, "rewrapped every key under the master key from " + str(new_master_key_file))
            emit_json(env, {"store": store})
            return
        fresh, show = _new_master_key(env, args.master_key_out)
        manager.rewrap(fresh)
    result: dict[str, Any] = {"store": store}
    if show:
        result["master_key"] = fresh
        note(
            env,
            "rewrapped; " + MASTER_KEY_NOTICE.replace("no master key was configured, so a", "a"),
        )
    else:
        note(env, "rewrapped every key under the new master key")
    emit_json(env, result)


REWRAP = Command(
    "rewrap",
    help="Re-encrypt every key under a new master key, in one transaction.",
    epilog="Examples:\n  jwtkit keys rewrap --yes           (prints the new master key once)\n"
    "  jwtkit keys rewrap --new-master-key-file new.key",
    arguments=_rewrap_arguments,
    run=_rewrap,
)


COMMAND = Group(
    "keys",
    help="Manage the signing-key store: create, list, rotate, revoke, publish, back up.",
    epilog="Examples:\n"
    "  jwtkit keys init                     (creates ./jwtkit.db and prints a master key once)\n"
    "  export JWTKIT_MASTER_KEY=...; jwtkit keys list\n"
    "  jwtkit keys --store postgresql://db/keys rotate",
    commands={c.name: c for c in (INIT, LIST, ROTATE, REVOKE, JWKS, BACKUP, RESTORE, REWRAP)},
    arguments=add_store_options,
)
