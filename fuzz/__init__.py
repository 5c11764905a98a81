"""jwtkit's fuzzing harness: ``python -m fuzz --minutes 20`` (see fuzz/README.md).

This package must not import jwtkit: the worker imports jwtkit under atheris' import hook, so
that its bytecode is instrumented for coverage, and a module imported earlier would not be.
"""
