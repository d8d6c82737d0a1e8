//! The release console driven through headless Chromium over WebDriver.
//!
//! Needs `scripts/build-site` (or `cargo leptos build --release`) first (`scripts/test` does it): the
//! tests start `target/release/odooops` with its own embedded PostgreSQL in a
//! scratch directory, and `chromedriver`. A failing test leaves a screenshot
//! under `target/e2e-screenshots/`.

mod support;

mod accounts;
mod backups;
mod branches;
mod catalog;
mod first_week;
mod instances;
mod mail;
mod monitoring;
mod pages;
mod pipeline;
mod promotions;
mod supabase;
mod wizard;
