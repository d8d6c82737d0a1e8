//! Integration tests of the real application, spawned on port 0 against a
//! fresh database each. One binary for all of them (faster to link).

mod accounts;
mod attacks;
mod audit;
mod automation;
mod backups;
mod canary;
mod catalog;
mod cli;
mod console_mail;
mod consoles;
mod cron_watch;
mod helpers;
mod instances;
mod instances_dedicated;
mod instances_domains;
mod instances_property;
mod instances_quota;
mod mails;
mod pipeline;
mod platform_settings;
mod preflight;
mod promotions;
mod release_approvals;
mod rest;
mod roles;
mod shells;
mod site_config;
mod supabase;
mod supabase_local;
mod support;
mod swarm;
mod tenancy;
mod upgrades;
mod webhooks;
mod wizard;
