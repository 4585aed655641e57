//! The `mailsetup` command line: serve, render, check.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use mailsetup::config::Config;
use mailsetup::email::EmailAddress;
use mailsetup::resolve::{Account, Directory, SiteSource};
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
    /// Print the DNS records a domain must publish, or check them.
    ///
    /// The records point autoconfig.<domain> and autodiscover.<domain> at
    /// this server ([server] public_name, or public_ipv4/public_ipv6) and
    /// publish the profile's IMAP, POP3 and submission servers as RFC 6186
    /// SRV records. With --check, each name is looked up and compared; the
    /// exit status is 1 when anything is wrong, missing or unresolvable.
    Dns(DnsArgs),
}

#[derive(clap::Args)]
struct DnsArgs {
    /// The mail domain, e.g. contoso.com.
    domain: String,
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Output: a zone-file fragment, or JSON.
    #[arg(long, value_enum, default_value = "zone")]
    format: DnsFormat,
    /// Look the records up and print expected, found, status and what to change.
    #[arg(long)]
    check: bool,
    /// The DNS server to ask (IP or IP:port); default [dns] resolver, else
    /// the system's.
    #[arg(long, value_parser = parse_resolver)]
    resolver: Option<std::net::SocketAddr>,
    /// The profile, for a domain that is not in the domain table (yet).
    #[arg(long)]
    profile: Option<String>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum DnsFormat {
    Zone,
    Json,
}

fn parse_resolver(value: &str) -> Result<std::net::SocketAddr, String> {
    mailsetup::config::parse_resolver_address(value)
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { config, log_level } => serve(config, log_level),
        Command::Render { document } => render(document),
        Command::Check { config } => check(config),
        Command::Dns(args) => dns(args),
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
    }
}

fn check(config: Option<PathBuf>) -> anyhow::Result<()> {
    let config = load(config)?;
    // Certificates are part of the configuration: a missing or mismatched
    // file must fail here, not at the next restart.
    if !config.https_listeners.is_empty() {
        mailsetup::tls::load(&config.tls)?;
    }
    let directory = Directory::new(&config);
    let mut out = String::new();
    let _ = writeln!(out, "configuration OK: {}", config.origin.display());
    let profiles: Vec<&str> = config.profiles.keys().map(String::as_str).collect();
    let _ = writeln!(out, "profiles: {}", profiles.join(", "));
    let _ = writeln!(out, "{:<40} {:<14} source", "domain", "profile");
    for (domain, site) in directory.table() {
        let source = match site.source {
            SiteSource::Table => "domain table",
            SiteSource::Profile => "profile",
            SiteSource::Mx => "MX",
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

/// How long `dns --check` waits for each answer.
const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

fn dns(args: DnsArgs) -> anyhow::Result<()> {
    use mailsetup::dns;
    let config = load(args.config)?;
    let domain = mailsetup::email::DomainName::parse(&args.domain)
        .with_context(|| format!("{:?} is not a domain name", args.domain))?;
    let directory = Directory::new(&config);
    let profile = match &args.profile {
        Some(id) => config.profiles.get(id).cloned().with_context(|| {
            let known: Vec<&str> = config.profiles.keys().map(String::as_str).collect();
            format!(
                "unknown profile {id:?}; known profiles: {}",
                known.join(", ")
            )
        })?,
        None => directory
            .resolve(&domain)
            .map(|site| site.profile.clone())
            .with_context(|| "add it to the domain table or pass --profile microsoft365")?,
    };
    let records = dns::expected_records(&domain, &profile, &config.public)?;
    if !args.check {
        let text = match args.format {
            DnsFormat::Zone => dns::render_zone(&domain, &profile, &records),
            DnsFormat::Json => dns::render_json(&domain, &profile, &records),
        };
        return write_stdout(text.as_bytes());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let results = runtime.block_on(async {
        let resolver = dns::build_resolver(
            args.resolver.or(config.dns.resolver),
            CHECK_TIMEOUT,
            2,
            1024,
        )
        .map_err(anyhow::Error::msg)?;
        anyhow::Ok(dns::check_records(&resolver, &records, CHECK_TIMEOUT).await)
    })?;
    let text = match args.format {
        DnsFormat::Zone => dns::render_check_table(&results),
        DnsFormat::Json => {
            let mut text = serde_json::to_string_pretty(&results)?;
            text.push('\n');
            text
        }
    };
    write_stdout(text.as_bytes())?;
    let bad = results
        .iter()
        .filter(|r| r.status != dns::CheckStatus::Ok)
        .count();
    if bad > 0 {
        anyhow::bail!(
            "{bad} of {} record sets for {domain} are wrong, missing or could not be looked up",
            results.len()
        );
    }
    Ok(())
}
