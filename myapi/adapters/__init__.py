"""Where myapi reaches into a library beyond its public API: one small module per library.

Each module names the exact upstream function and version it replaces, the library has an
upper bound in `setup.cfg`, and `tests/adapters/` holds a contract test that fails loudly
when an upgrade moves or changes what the module relies on. Everything else in the package
uses the libraries' public API only.
"""
