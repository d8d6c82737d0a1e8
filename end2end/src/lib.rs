//! Browser tests live in `tests/`; see README.
