"""Helpers shared by the test folders, imported as ``tests.support.<name>``.

Test modules are imported with pytest's ``--import-mode=importlib``, so they never import each
other; whatever two of them share lives here (fixtures stay in the folders' conftest.py files).
"""
