//! The integration tests, in one binary: one module per area (as ripgrep's
//! tests/ does), so the library and the dev-dependencies are linked once
//! rather than once per file, and the shared helpers are compiled once and
//! checked for dead code. Run one area with `cargo test --test integration
//! cli::`.

mod apple_support;
mod common;
mod dns_standin;

mod acme_pebble;
mod acme_replicas;
mod apple_profiles;
mod apple_schema;
mod apple_signing;
mod autodiscover;
mod autodiscover_exchangelib;
mod bad_input;
mod cli;
mod client_table;
mod deploy_manifests;
mod dns_records;
mod domains_file;
mod hardening;
mod hardening_http;
mod hardening_limits;
mod ispdb_reference;
mod landing_browser;
mod landing_delivery;
mod landing_page;
mod mx_detection;
mod operator_traps;
mod pimconf_strict;
mod production;
mod readiness;
mod request_log;
mod thunderbird_autoconfig;
mod thunderbird_real;
mod watch;
