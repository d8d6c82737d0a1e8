//! Attack tests: each performs an attack from the security review against the
//! real stack (PostgreSQL, Docker, git) and asserts that it fails. They stay
//! as regression tests, named after the threat they stop.

mod egress;
mod fairness;
mod filestore;
mod postgres;
mod repository;
mod support;
