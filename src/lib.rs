//! mailsetup: answers the documents mail clients fetch to set up Outlook.com
//! and Microsoft 365 accounts with OAuth2, for any number of domains.
//!
//! Data flows one way: request → typed input (`email`) → domain resolution
//! (`resolve`) → a renderer (`thunderbird`, ...) → response (`router`,
//! `server`). Configuration (`config`, `profile`) is validated once.
//!
//! Layers stack one way; no two modules import each other (`farm-studio
//! look` finds no loop and no import back up): `email`, `source`,
//! `document`, `date`, `log_writer`, `watch`, `qvalue` → `clients`, `request_log` →
//! `profile` → `domain_table` → `domains_file` → `config` → `tls`, `dns` →
//! `signing`, `resolve` → `load`, `metrics` and the documents
//! (`thunderbird`, `autodiscover`, `apple`, `web`) → `services` →
//! `router`, `acme` → `server` → the CLI (`main.rs`).

// Anything `pub` must really be reachable from outside. The library's only
// unsafe code is one system call, allowed where it is made
// (`server::reload`, which lowers the reload thread's priority); the CLI
// signals a process.
#![warn(unreachable_pub)]
#![deny(unsafe_code)]

pub mod acme;
pub mod apple;
pub mod autodiscover;
pub mod clients;
pub mod config;
pub mod date;
pub mod dns;
pub mod document;
pub mod domain_table;
pub mod domains_file;
pub mod email;
pub mod load;
pub mod log_writer;
pub mod metrics;
pub mod profile;
pub mod qvalue;
pub mod request_log;
pub mod resolve;
pub mod router;
pub mod server;
pub mod services;
pub mod signing;
pub mod source;
pub mod thunderbird;
pub mod tls;
pub mod watch;
pub mod web;
