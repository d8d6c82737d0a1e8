//! Branch builds: what turns a push into a running Odoo. This module holds
//! the pure parts first (webhook verification and parsing, addon discovery,
//! Odoo's log format); the queue and the pipeline build on them.

pub mod base_image;
pub mod branches;
pub mod build_now;
pub mod connect;
pub mod context;
pub mod databases;
pub mod db_reader;
pub mod dump;
pub mod egress;
pub mod events;
pub mod filestore;
mod freshness;
pub mod git;
pub mod github;
pub mod grid;
pub mod infra;
pub mod lifecycle;
pub mod manifest;
pub mod neutralize;
pub mod odoo_log;
pub mod pipeline;
pub mod poll;
pub mod preview;
pub mod queue;
pub mod webhooks;
