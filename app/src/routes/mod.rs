//! Pages, one per file.

pub mod audit;
pub mod backups;
pub mod build;
pub mod bundles;
pub mod catalog;
pub mod console_mail;
pub mod dashboard;
pub mod fleet;
pub mod instance_people;
pub mod instances;
pub mod mails;
pub mod not_found;
pub mod platform_settings;
pub mod project;
pub mod portal;
pub mod projects;
pub mod reset;
pub mod settings;
pub mod shell;
pub mod sign_in;
pub mod sign_up;
pub mod start;
pub mod support;
pub mod tenant;
pub mod tenants;
pub mod wizard;
