//! The `mailsetup` command line: serve, render, check.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use mailsetup::apple::{Platform, ProfileKind, ProfileOptions, render_apple_profile};
use mailsetup::config::Config;
use mailsetup::email::EmailAddress;
use mailsetup::resolve::{Account, Directory, SiteSource};
use mailsetup::signing::ProfileSigner;
use mailsetup::thunderbird::render_thunderbird_config;

/// Answers mail clients' auto-configuration requests so that Outlook.com and
/// Microsoft 365 mailboxes are added with OAuth2, by their native type.
///
/// Without --config every command uses the embedded default: HTTP on
/// 127.0.0.1:8080, HTTPS on 127.0.0.1:8443 with a self-signed certificate,
/// the built-in profiles (outlook, microsoft365) and a demo domain
/// contoso.example (Microsoft 365).
#[derive(Parser)]
#[command(name = "mailsetup", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server until SIGINT or SIGTERM.
    ///
    /// Prints each listening URL, the certificate's SHA-256 fingerprint and a
    /// final line `mailsetup ready`, then logs one line per request to stderr.
    Serve {
        /// Configuration file (see mailsetup.example.toml).
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Most detailed log level written: error, warn, info, debug, trace.
        #[arg(long, default_value = "info")]
        log_level: tracing::Level,
    },
    /// Write a document exactly as the server would answer it, to stdout.
    Render {
        #[command(subcommand)]
        document: RenderDocument,
    },
    /// Validate the configuration and profiles and print the domain table.
    ///
    /// Exits with status 1 and `file:line:column: reason` on the first error.
    Check {
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum RenderDocument {
    /// Thunderbird's config-v1.1.xml for an address.
    Thunderbird {
        /// The email address, e.g. alice@contoso.example.
        email: String,
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// An Apple configuration profile (.mobileconfig) for an address, the
    /// bytes `GET /apple/<email>.mobileconfig` answers (the signature's
    /// time and, for ECDSA, its random part aside).
    Mobileconfig {
        /// The email address, e.g. alice@contoso.example.
        email: String,
        /// exchange (Exchange with OAuth, the native account) or imap (the
        /// password fallback: last resort, personal accounts, app password).
        #[arg(long, default_value = "exchange", value_parser = parse_kind)]
        kind: ProfileKind,
        /// ios (iPhone/iPad: com.apple.eas.account) or macos
        /// (com.apple.ews.account).
        #[arg(long, default_value = "ios", value_parser = parse_platform)]
        platform: Platform,
        /// Sign with the configured certificate ([apple] or [tls]); fails
        /// when signing is off or no certificate is configured.
        #[arg(long)]
        sign: bool,
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
}

fn parse_kind(value: &str) -> Result<ProfileKind, String> {
    value
        .parse()
        .map_err(|e: mailsetup::apple::UnknownValue| e.to_string())
}

fn parse_platform(value: &str) -> Result<Platform, String> {
    value
        .parse()
        .map_err(|e: mailsetup::apple::UnknownValue| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { config, log_level } => serve(config, log_level),
        Command::Render { document } => render(document),
        Command::Check { config } => check(config),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mailsetup: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn load(path: Option<PathBuf>) -> anyhow::Result<Config> {
    Ok(Config::load(path.as_deref())?)
}

fn serve(config: Option<PathBuf>, log_level: tracing::Level) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_max_level(log_level)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let config = load(config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let running = mailsetup::server::start(config).await?;
        let mut out = std::io::stdout().lock();
        for addr in &running.http_addrs {
            writeln!(out, "listening on http://{addr}")?;
        }
        for addr in &running.https_addrs {
            writeln!(out, "listening on https://{addr}")?;
        }
        if let Some(tls) = &running.tls {
            let kind = if tls.self_signed { "self-signed certificate" } else { "certificate" };
            writeln!(out, "{kind} SHA-256 fingerprint: {}", tls.fingerprint_sha256)?;
            if let Some(addr) = running.https_addrs.first() {
                let insecure = if tls.self_signed { "-k " } else { "" };
                writeln!(
                    out,
                    "try: curl {insecure}'https://{addr}/mail/config-v1.1.xml?emailaddress=alice@contoso.example'"
                )?;
            }
        } else if let Some(addr) = running.http_addrs.first() {
            writeln!(
                out,
                "try: curl 'http://{addr}/mail/config-v1.1.xml?emailaddress=alice@contoso.example'"
            )?;
        }
        writeln!(out, "mailsetup ready")?;
        out.flush()?;
        drop(out);
        wait_for_signal().await?;
        tracing::info!("shutting down: finishing in-flight requests");
        running.shutdown().await;
        Ok(())
    })
}

async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
    Ok(())
}

fn render(document: RenderDocument) -> anyhow::Result<()> {
    match document {
        RenderDocument::Thunderbird { email, config } => {
            let config = load(config)?;
            let address = EmailAddress::parse(&email).with_context(|| format!("{email:?}"))?;
            let directory = Directory::new(&config);
            let site = directory.resolve(address.domain())?;
            let document = render_thunderbird_config(Account {
                site,
                address: Some(&address),
            });
            write_stdout(&document.body)
        }
        RenderDocument::Mobileconfig {
            email,
            kind,
            platform,
            sign,
            config,
        } => {
            let config = load(config)?;
            let address = EmailAddress::parse(&email).with_context(|| format!("{email:?}"))?;
            let directory = Directory::new(&config);
            let site = directory.resolve(address.domain())?;
            let mut document =
                render_apple_profile(site, &address, ProfileOptions { kind, platform })?;
            if sign {
                let signer = ProfileSigner::load(&config.apple_signing)?.context(
                    "--sign: profile signing is off in this configuration; configure [tls] \
                     or [apple] signing_certificate and signing_key (and not sign = false)",
                )?;
                document.body = signer.sign(&document.body)?;
            }
            write_stdout(&document.body)
        }
    }
}

fn check(config: Option<PathBuf>) -> anyhow::Result<()> {
    let config = load(config)?;
    // Certificates are part of the configuration: a missing or mismatched
    // file must fail here, not at the next restart.
    if !config.https_listeners.is_empty() {
        mailsetup::tls::load(&config.tls)?;
    }
    let signer = ProfileSigner::load(&config.apple_signing)?;
    let directory = Directory::new(&config);
    let mut out = String::new();
    let _ = writeln!(out, "configuration OK: {}", config.origin.display());
    match &signer {
        Some(signer) => {
            let _ = writeln!(
                out,
                "apple profiles: signed by {} ({}), valid for {} more days",
                signer.subject(),
                signer.algorithm_name(),
                signer.remaining_validity().as_secs() / 86_400
            );
        }
        None => {
            let _ = writeln!(out, "apple profiles: unsigned");
        }
    }
    let profiles: Vec<&str> = config.profiles.keys().map(String::as_str).collect();
    let _ = writeln!(out, "profiles: {}", profiles.join(", "));
    let _ = writeln!(out, "{:<40} {:<14} source", "domain", "profile");
    for (domain, site) in directory.table() {
        let source = match site.source {
            SiteSource::Table => "domain table",
            SiteSource::Profile => "profile",
        };
        let _ = writeln!(
            out,
            "{:<40} {:<14} {source}",
            domain.as_str(),
            site.profile.id
        );
    }
    write_stdout(out.as_bytes())
}

/// Writes to stdout; a closed pipe (`mailsetup check | head`) is not an error.
fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => Ok(result?),
    }
}
