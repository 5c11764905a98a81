"""``jwtkit keys``: the operator's console for the rotating, encrypted signing-key store."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from jwtkit.cli._errors import CLIError
from jwtkit.cli._io import emit_json, note, read_password, use_color, write_file
from jwtkit.cli._render import render_table
from jwtkit.cli._store import (
    master_key_configured,
    open_manager,
    read_master_key_file,
    redact,
    remember_store,
    sqlite_path,
    store_options,
    store_overrides,
    store_params,
)
from jwtkit.cli.status import ExitStatus
from jwtkit.errors import MasterKeyError
from jwtkit.jwa import ALGORITHMS, ASYMMETRIC_ALGORITHMS

if TYPE_CHECKING:
    from jwtkit.keys import KeyManager, KeyRecord, RotationPolicy

__all__ = ["keys"]

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


def _manager(ctx: click.Context, alg: str | None = None) -> KeyManager:
    url, key_file = store_params(ctx)
    manager = open_manager(url, key_file, policy=_policy(alg))
    ctx.call_on_close(manager.close)
    return manager


def _confirm(yes: bool, question: str) -> None:
    if not yes and not click.confirm(question, default=False, err=True):
        raise CLIError("cancelled, nothing changed", ExitStatus.ABORTED)


def _new_master_key(out: Path | None) -> tuple[str, bool]:
    """Generate a master key; return it and whether it still has to be shown on stdout.

    With ``out`` the key is written (0600) before anything is encrypted under it, so a
    failed write never leaves a store whose master key was lost.
    """
    from jwtkit.keys import generate_master_key  # lazy import

    key = generate_master_key()
    if out is None:
        return key, True
    write_file(out, (key + "\n").encode(), private=True)
    note(f"wrote the new master key to {out} (mode 0600); use it with --master-key-file")
    return key, False


@click.group(
    epilog="\b\nExamples:\n"
    "  jwtkit keys init                     (creates ./jwtkit.db and prints a master key once)\n"
    "  export JWTKIT_MASTER_KEY=...; jwtkit keys list\n"
    "  jwtkit keys --store postgresql://db/keys rotate"
)
@store_options
@click.pass_context
def keys(ctx: click.Context, store: str, master_key_file: Path | None) -> None:
    """Manage the signing-key store: create, list, rotate, revoke, publish, back up."""
    remember_store(ctx, store, master_key_file)


@keys.command(
    epilog="\b\nExamples:\n"
    "  jwtkit keys init\n"
    "  jwtkit keys --store sqlite:////var/lib/jwtkit/keys.db init --alg EdDSA "
    "--master-key-out /etc/jwtkit/master.key"
)
@click.option("--alg", type=click.Choice(SIGNING_ALGS), help="Algorithm of the first keys.")
@click.option(
    "--master-key-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a newly generated master key to this file (0600) instead of stdout.",
)
@store_overrides()
@click.pass_context
def init(ctx: click.Context, alg: str | None, master_key_out: Path | None) -> None:
    """Create the key store with an active and a pending key.

    Uses the configured master key; if none is configured, generates one and prints it
    once on stdout (or writes it to --master-key-out).
    """
    from jwtkit.keys import KeyManager  # lazy import

    url, key_file = store_params(ctx)
    shown = None
    if master_key_configured(key_file) or url.startswith("memory:"):
        manager = KeyManager.open(url, master_key_file=key_file, policy=_policy(alg))
    else:
        fresh, show = _new_master_key(master_key_out)
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
            note(MASTER_KEY_NOTICE)
    with manager:
        active = manager.active_key()
        result: dict[str, Any] = {"store": redact(url), "active": _record_json(active)}
        if shown is not None:
            result["master_key"] = shown
        note(f"key store {redact(url)} ready: active key {active.kid!r} ({active.alg})")
        emit_json(result)


@keys.command(
    "list",
    epilog="\b\nExamples:\n  jwtkit keys list\n  jwtkit keys list --json | jq '.[].kid'",
)
@click.option("--json", "as_json", is_flag=True, help="Print the records as JSON.")
@store_overrides()
@click.pass_context
def list_keys(ctx: click.Context, as_json: bool) -> None:
    """Show every key: kid, algorithm, state and lifecycle dates."""
    records = _manager(ctx).records()
    if as_json:
        emit_json([_record_json(r) for r in records])
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
    render_table(columns, rows, color=use_color(ctx), title="Keys")


@keys.command(epilog="\b\nExample:\n  jwtkit keys rotate --alg EdDSA")
@click.option("--alg", type=click.Choice(SIGNING_ALGS), help="Algorithm of the new pending key.")
@store_overrides()
@click.pass_context
def rotate(ctx: click.Context, alg: str | None) -> None:
    """Activate the pending key; the old key keeps verifying until its tokens expire."""
    active = _manager(ctx, alg).rotate()
    note(f"rotated: {active.kid!r} now signs; the previous key verifies until its tokens expire")
    emit_json(_record_json(active))


@keys.command(epilog="\b\nExample:\n  jwtkit keys revoke 3Zk9...Q --yes")
@click.argument("kid")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@store_overrides()
@click.pass_context
def revoke(ctx: click.Context, kid: str, yes: bool) -> None:
    """Revoke KID: it stops verifying at once and leaves the JWKS (no undo)."""
    manager = _manager(ctx)
    record = next((r for r in manager.records() if r.kid == kid), None)
    if record is None:
        raise CLIError(f"no key with kid {kid!r} in the store", ExitStatus.STORE_ERROR)
    extra = (
        " It is the active key: the pending key takes over at once."
        if record.state == "active"
        else ""
    )
    _confirm(yes, f"Revoke key {kid!r}? Every token it signed stops verifying now.{extra}")
    revoked = manager.revoke(kid)
    note(f"revoked {kid!r}")
    emit_json(_record_json(revoked))


@keys.command(epilog="\b\nExample:\n  jwtkit keys jwks > public/.well-known/jwks.json")
@store_overrides()
@click.pass_context
def jwks(ctx: click.Context) -> None:
    """Print the JWKS verifiers must trust now (pending, active, retired keys)."""
    emit_json(_manager(ctx).jwks())


@keys.command(
    epilog="\b\nExamples:\n  jwtkit keys backup keys.backup\n"
    "  pass show jwtkit-backup | jwtkit keys backup --passphrase-stdin keys.backup"
)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--passphrase-stdin", is_flag=True, help="Read the passphrase from stdin.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@store_overrides()
@click.pass_context
def backup(ctx: click.Context, file: Path, passphrase_stdin: bool, force: bool) -> None:
    """Write every key, encrypted under a passphrase, to FILE (mode 0600)."""
    if file.exists() and not force:
        raise CLIError(f"{str(file)!r} already exists (use --force to overwrite)")
    manager = _manager(ctx)
    passphrase = read_password("backup passphrase", from_stdin=passphrase_stdin, confirm=True)
    try:
        manager.export_backup(file, passphrase)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    count = len(manager.records())
    note(f"backed up {count} keys to {file} (mode 0600)")
    emit_json({"file": str(file), "keys": count})


@keys.command(
    epilog="\b\nExamples:\n  jwtkit keys --store sqlite:///new.db restore keys.backup\n"
    "  jwtkit keys restore --passphrase-stdin keys.backup < passphrase.txt"
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--passphrase-stdin", is_flag=True, help="Read the passphrase from stdin.")
@click.option("--master-key-out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@store_overrides()
@click.pass_context
def restore(
    ctx: click.Context, file: Path, passphrase_stdin: bool, master_key_out: Path | None, yes: bool
) -> None:
    """Restore the keys in FILE into an empty store (created if needed).

    If no master key is configured, a new one is generated for the store and printed once.
    """
    from jwtkit.keys import KeyManager  # lazy import

    url, key_file = store_params(ctx)
    _confirm(yes, f"Restore the keys from {file} into {redact(url)}?")
    passphrase = read_password("backup passphrase", from_stdin=passphrase_stdin, confirm=False)
    fresh, show = None, False
    if not master_key_configured(key_file) and not url.startswith("memory:"):
        path = sqlite_path(url)
        if path is not None and path.exists():
            raise CLIError(
                f"the store {redact(url)} already exists: set JWTKIT_MASTER_KEY (or pass "
                "--master-key-file) to its master key",
                ExitStatus.STORE_ERROR,
            )
        fresh, show = _new_master_key(master_key_out)
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
        note(MASTER_KEY_NOTICE)
    note(f"restored {count} keys into {redact(url)}")
    emit_json(result)


@keys.command(
    epilog="\b\nExamples:\n  jwtkit keys rewrap --yes           (prints the new master key once)\n"
    "  jwtkit keys rewrap --new-master-key-file new.key"
)
@click.option(
    "--new-master-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Re-encrypt under the key in this file (else a new one is generated and printed).",
)
@click.option("--master-key-out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@store_overrides()
@click.pass_context
def rewrap(
    ctx: click.Context, new_master_key_file: Path | None, master_key_out: Path | None, yes: bool
) -> None:
    """Re-encrypt every key under a new master key, in one transaction."""
    manager = _manager(ctx)
    _confirm(
        yes,
        "Re-encrypt every key under a new master key? Every process using the old one must be "
        "restarted with the new one.",
    )
    if new_master_key_file is not None:
        manager.rewrap(read_master_key_file(new_master_key_file))
        note("rewrapped every key under the master key from " + str(new_master_key_file))
        emit_json({"store": redact(store_params(ctx)[0])})
        return
    fresh, show = _new_master_key(master_key_out)
    manager.rewrap(fresh)
    result: dict[str, Any] = {"store": redact(store_params(ctx)[0])}
    if show:
        result["master_key"] = fresh
        note("rewrapped; " + MASTER_KEY_NOTICE.replace("no master key was configured, so a", "a"))
    else:
        note("rewrapped every key under the new master key")
    emit_json(result)
