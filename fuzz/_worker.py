"""One fuzzing process: ``python -m fuzz._worker TARGET KEYS CORPUS [libFuzzer flags...]``.

Started by ``python -m fuzz``, never by hand. jwtkit is imported under atheris' import hook,
so its bytecode reports coverage; the structure-aware mutator of the target is installed as
libFuzzer's custom mutator, and falls back to libFuzzer's own byte mutations (which use the
JOSE dictionary) for part of the mutants and for inputs it cannot parse.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

from fuzz._mutate import make_mutator

with atheris.instrument_imports(include=["jwtkit"]):
    from fuzz import _seeds, _targets


def main(argv: list[str]) -> None:
    """Fuzz one target until libFuzzer's limits (time, runs) or a finding stop it."""
    name, keys, corpus, *flags = argv
    target = _targets.make_target(name, _seeds.Material.load(Path(keys)))
    # atheris.Mutate is a stub until Fuzz() runs, so look it up at each call.
    mutator = make_mutator(target.mutator, lambda data, size: atheris.Mutate(data, size))
    args = [sys.argv[0], f"-max_len={target.max_len}", *flags, corpus]
    if mutator is None:
        atheris.Setup(args, target.run)
    else:
        atheris.Setup(args, target.run, custom_mutator=mutator)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv[1:])
