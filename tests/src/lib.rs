//! Integration tests of `mcp-oauth` live in `tests/tests/`; this library is empty.
