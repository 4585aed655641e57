//! The `mailsetup` command line: serve, render, check.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};

use mailsetup::apple::{Platform, ProfileKind, ProfileOptions, render_apple_profile};
use mailsetup::autodiscover::{
    JSON_PROTOCOLS, JsonProtocol, ResponseSchema, render_autodiscover_json,
    render_autodiscover_response,
};
use mailsetup::clients::Client;
use mailsetup::config::Config;
use mailsetup::date::{Clock, Date};
use mailsetup::email::EmailAddress;
use mailsetup::load::Loaded;
use mailsetup::resolve::{Account, Directory, Site, SiteSource};
use mailsetup::signing::ProfileSigner;
use mailsetup::thunderbird::{NativeTypes, render_thunderbird_config};

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
    /// Run the server until SIGINT or SIGTERM; SIGHUP reloads the configuration.
    ///
    /// Prints each listening URL, the certificate's SHA-256 fingerprint and a
    /// final line `mailsetup ready`, then logs one line per request to stderr.
    /// Changed certificate files are put in service by themselves within
    /// `[limits] watch_interval_secs`; so is the configuration file with
    /// `[server] watch = true`. On SIGTERM, /healthz answers 503 for
    /// `[limits] shutdown_delay_secs` before the listeners close.
    Serve {
        /// Configuration file (see mailsetup.example.toml).
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Most detailed log level written: error, warn, info, debug, trace.
        #[arg(long, default_value = "info")]
        log_level: tracing::Level,
        /// Log lines as human-readable text or one JSON object per line.
        #[arg(long, value_enum, default_value = "text")]
        log_format: LogFormat,
        /// Write the process id here (for `mailsetup reload` and init systems).
        #[arg(long)]
        pid_file: Option<PathBuf>,
        /// Answer as on this day (YYYY-MM-DD) instead of today: what clients
        /// get depends on the date (see `mailsetup clients`).
        #[arg(long, value_name = "YYYY-MM-DD")]
        today: Option<Date>,
    },
    /// Validate a configuration, then make the running server reload it.
    ///
    /// Reads the pid file, makes sure it names a running `mailsetup serve`
    /// started with that pid file (a stale or foreign number is refused,
    /// nothing is signalled), validates the configuration file that server
    /// re-reads (its --config, from its command line) with the same checks
    /// as `check`, then sends it SIGHUP; the server re-reads the
    /// configuration, profiles and certificates and swaps them in without
    /// dropping a connection. A server also reloads on a plain SIGHUP; a
    /// file that fails validation then is refused and logged, and the
    /// running configuration stays.
    Reload {
        /// The server's configuration file, to be sure it is the one you
        /// edited: refused when the server reads another. Default: the
        /// one the server reads.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// The pid file given to `serve --pid-file`.
        #[arg(long)]
        pid_file: PathBuf,
    },
    /// Write a document exactly as the server would answer it, to stdout.
    Render {
        #[command(subcommand)]
        document: RenderDocument,
    },
    /// Print the client table: what each mail client is offered for
    /// Outlook.com and Microsoft 365 accounts, from when until when, and why.
    ///
    /// The table is dated: Microsoft and the clients change what works. It
    /// is printed as it applies on --today (default: today); with --config,
    /// the profiles' `[[offer]]` date changes are applied.
    Clients {
        #[arg(long, value_name = "YYYY-MM-DD")]
        today: Option<Date>,
        #[arg(long, value_enum, default_value = "text")]
        format: ClientsFormat,
        #[arg(long, short)]
        config: Option<PathBuf>,
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
enum ClientsFormat {
    Text,
    Json,
    /// The README's table.
    Markdown,
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
        /// Answer this client, e.g. "... Thunderbird/153.8.0": Thunderbird
        /// 153 and later are offered native Exchange types where the client
        /// table says so. Without it, the answer any other client gets.
        #[arg(long)]
        user_agent: Option<String>,
        /// Answer as on this day (YYYY-MM-DD) instead of today: what clients
        /// get depends on the date (see `mailsetup clients`).
        #[arg(long, value_name = "YYYY-MM-DD")]
        today: Option<Date>,
    },
    /// The autodiscover answer for an address: POX (outlook or mobilesync
    /// schema), or with --json the Autodiscover v2 answer for a protocol.
    Autodiscover {
        email: String,
        /// The response schema the client asked for.
        #[arg(long, value_enum, default_value = "outlook", conflicts_with = "json")]
        schema: SchemaArg,
        /// Render the v2 JSON answer for this protocol (AutodiscoverV1,
        /// ActiveSync, EWS).
        #[arg(long, value_name = "PROTOCOL")]
        json: Option<String>,
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Answer as on this day (YYYY-MM-DD) instead of today: what clients
        /// get depends on the date (see `mailsetup clients`).
        #[arg(long, value_name = "YYYY-MM-DD")]
        today: Option<Date>,
    },
    /// An Apple configuration profile (.mobileconfig) for an address, the
    /// bytes `GET /apple/<email>.mobileconfig` answers (the signature's
    /// time and, for ECDSA, its random part aside).
    Mobileconfig {
        /// The email address, e.g. alice@contoso.example.
        email: String,
        /// exchange (Exchange with OAuth, the native account) or imap (IMAP
        /// with a password, only for a profile that allows passwords; the
        /// built-in Outlook.com and Microsoft 365 profiles do not).
        #[arg(long, default_value = "exchange", value_parser = parse_kind)]
        kind: ProfileKind,
        /// ios (iPhone/iPad: com.apple.eas.account) or macos
        /// (com.apple.ews.account, EWS: refused from 2027-04-01).
        #[arg(long, default_value = "ios", value_parser = parse_platform)]
        platform: Platform,
        /// Sign with the configured certificate ([apple] or [tls]); fails
        /// when signing is off or no certificate is configured.
        #[arg(long)]
        sign: bool,
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Answer as on this day (YYYY-MM-DD) instead of today: what clients
        /// get depends on the date (see `mailsetup clients`).
        #[arg(long, value_name = "YYYY-MM-DD")]
        today: Option<Date>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SchemaArg {
    Outlook,
    Mobilesync,
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
        Command::Serve {
            config,
            log_level,
            log_format,
            pid_file,
            today,
        } => serve(config, log_level, log_format, pid_file, today),
        Command::Reload { config, pid_file } => reload(config, &pid_file),
        Command::Render { document } => render(document),
        Command::Check { config } => check(config),
        Command::Clients {
            today,
            format,
            config,
        } => clients(today, format, config),
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

fn serve(
    config_path: Option<PathBuf>,
    log_level: tracing::Level,
    log_format: LogFormat,
    pid_file: Option<PathBuf>,
    today: Option<Date>,
) -> anyhow::Result<()> {
    return_large_tables_on_free();
    // Log lines are appended to a buffer that a writer thread writes out in
    // batches: a request never waits for stderr, and costs no channel
    // operation or thread wake-up (src/log_writer.rs, BENCHMARKS.md).
    // Not lossy: past 1 MiB pending, requests wait for the disk. The guard
    // flushes what is left when `serve` returns.
    let (writer, _flush_on_exit) = mailsetup::log_writer::BatchedLog::new(std::io::stderr())
        .context("cannot start the log writer thread")?;
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(log_level)
        .with_writer(writer.clone());
    let colours = std::io::stderr().is_terminal();
    match log_format {
        LogFormat::Text => subscriber.with_ansi(colours).init(),
        LogFormat::Json => subscriber.json().init(),
    }
    // Request lines skip `tracing`'s per-field formatting and go straight
    // to the same writer in the same form (src/request_log.rs); a coloured
    // terminal keeps `tracing`'s colours, where speed does not matter.
    let line_format = match log_format {
        LogFormat::Text if !colours => Some(mailsetup::request_log::LineFormat::Text),
        LogFormat::Text => None,
        LogFormat::Json => Some(mailsetup::request_log::LineFormat::Json),
    };
    if let Some(line_format) = line_format.filter(|_| log_level >= tracing::Level::INFO) {
        mailsetup::request_log::install(writer, line_format);
    }
    let config = Config::load(config_path.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let served = runtime.block_on(async move {
        let clock = today.map_or(Clock::System, Clock::Fixed);
        let running = mailsetup::server::start_with_clock(config, clock).await?;
        if let Some(pid_file) = &pid_file {
            write_pid_file(pid_file)?;
        }
        // Listen for signals before saying "ready": a SIGTERM sent right
        // after the ready line must be a graceful stop, not the default kill.
        let signals = Signals::new()?;
        print_ready(&running)?;
        let result = signals
            .run_until_stopped(&running, config_path.as_deref())
            .await;
        tracing::info!("shutting down: finishing in-flight requests");
        running.shutdown().await;
        if let Some(pid_file) = &pid_file {
            remove_pid_file(pid_file);
        }
        result
    });
    // A reload still reading its files (a hung network mount, a FIFO)
    // must not keep a stopped server from exiting.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    served
}

/// What `serve` prints on stdout once it listens; the last line is
/// `mailsetup ready`, which scripts and tests wait for.
fn print_ready(running: &mailsetup::server::Running) -> anyhow::Result<()> {
    let mut out = String::new();
    for addr in &running.http_addrs {
        let _ = writeln!(out, "listening on http://{addr}");
    }
    for addr in &running.https_addrs {
        let _ = writeln!(out, "listening on https://{addr}");
    }
    for addr in &running.admin_addrs {
        let _ = writeln!(out, "admin (metrics) on http://{addr}");
    }
    if let Some(tls) = &running.tls {
        if !tls.fingerprint_sha256.is_empty() {
            let kind = if tls.self_signed {
                "self-signed certificate"
            } else {
                "certificate"
            };
            let _ = writeln!(
                out,
                "{kind} SHA-256 fingerprint: {}",
                tls.fingerprint_sha256
            );
        }
        if tls.directory_certificates > 0 {
            let _ = writeln!(
                out,
                "certificates from the certificates directory: {}",
                tls.directory_certificates
            );
        }
        if let Some(addr) = running.https_addrs.first() {
            let insecure = if tls.self_signed { "-k " } else { "" };
            let _ = writeln!(
                out,
                "try: curl {insecure}'https://{addr}/mail/config-v1.1.xml?emailaddress=alice@contoso.example'"
            );
        }
    } else if let Some(addr) = running.http_addrs.first() {
        let _ = writeln!(
            out,
            "try: curl 'http://{addr}/mail/config-v1.1.xml?emailaddress=alice@contoso.example'"
        );
    }
    out.push_str("mailsetup ready\n");
    write_stdout(out.as_bytes())
}

/// Makes glibc give every allocation of 4 MiB or more its own mapping,
/// returned to the system when freed. By default glibc raises that
/// threshold to the size of the largest mapping freed (up to 32 MiB), so
/// after the first reload the next domain table's index and rows came from
/// the heap, and the generation they replaced stayed resident: with a
/// million domains, 61 MB after start grew to 87 MB after a few reloads
/// (BENCHMARKS.md, "Scale"). Requests never allocate that much.
fn return_large_tables_on_free() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a parameter of the allocator (under its
    // lock); called first thing, before the server allocates its tables.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
    }
}

/// The signals `serve` acts on.
struct Signals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> anyhow::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            terminate: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
            interrupt: signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?,
            hangup: signal(SignalKind::hangup()).context("cannot listen for SIGHUP")?,
        })
    }

    /// Serves until SIGINT or SIGTERM; reloads on SIGHUP. A failed reload
    /// is logged with its reason (file, line) and the running configuration
    /// stays. After SIGTERM, waits out `shutdown_delay_secs` (see
    /// `delay_shutdown`); SIGINT, an operator at a terminal, stops at once.
    async fn run_until_stopped(
        mut self,
        running: &mailsetup::server::Running,
        config_path: Option<&std::path::Path>,
    ) -> anyhow::Result<()> {
        loop {
            tokio::select! {
                _ = self.terminate.recv() => {
                    return self.delay_shutdown(running, config_path).await;
                }
                _ = self.interrupt.recv() => return Ok(()),
                _ = self.hangup.recv() => reload_logged(running, config_path),
            }
        }
    }

    /// The first step of a stop on SIGTERM: `/healthz` answers 503 for
    /// `shutdown_delay_secs` while everything else is answered as before,
    /// so that load balancers probing it send new clients elsewhere before
    /// the listeners close. A second SIGTERM or a SIGINT ends the wait.
    async fn delay_shutdown(
        mut self,
        running: &mailsetup::server::Running,
        config_path: Option<&std::path::Path>,
    ) -> anyhow::Result<()> {
        let delay = running.shutdown_delay();
        if delay.is_zero() {
            return Ok(());
        }
        running.stop_being_ready();
        tracing::info!(
            delay_secs = delay.as_secs(),
            "SIGTERM: /healthz answers 503 during shutdown_delay_secs, then the listeners close"
        );
        let waited = tokio::time::sleep(delay);
        tokio::pin!(waited);
        loop {
            tokio::select! {
                _ = &mut waited => return Ok(()),
                _ = self.terminate.recv() => return Ok(()),
                _ = self.interrupt.recv() => return Ok(()),
                _ = self.hangup.recv() => reload_logged(running, config_path),
            }
        }
    }
}

/// A reload on SIGHUP, in the background: signals are still acted on
/// while it reads the files.
fn reload_logged(running: &mailsetup::server::Running, config_path: Option<&std::path::Path>) {
    running.reload_in_background(config_path.map(Path::to_path_buf));
}

/// Writes our pid to `path` through a new file beside it, renamed into
/// place: an existing symlink at `path` is replaced, never followed (it
/// could point at any file the server may write), and a reader never sees
/// a half-written number.
fn write_pid_file(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let name = path
        .file_name()
        .with_context(|| format!("--pid-file {}: names no file", path.display()))?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temp_name = OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{}.tmp", std::process::id()));
    let temp = dir.join(temp_name);
    // Left by a crashed start that had our pid; unlinking a symlink
    // removes the link, not its target.
    let _ = std::fs::remove_file(&temp);
    let written = std::fs::OpenOptions::new()
        .write(true)
        // O_EXCL: fails on anything already there, a symlink included.
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o644)
        .open(&temp)
        .and_then(|mut file| {
            writeln!(file, "{}", std::process::id())?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temp, path));
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(error).with_context(|| format!("cannot write the pid file {}", path.display()));
    }
    Ok(())
}

/// Removes the pid file at exit, unless it names another process by now
/// (a second server took it over).
fn remove_pid_file(path: &Path) {
    let ours = std::fs::read_to_string(path)
        .is_ok_and(|text| text.trim() == std::process::id().to_string());
    if ours {
        let _ = std::fs::remove_file(path);
    }
}

fn reload(config: Option<PathBuf>, pid_file: &Path) -> anyhow::Result<()> {
    let pid = read_pid_file(pid_file)?;
    let server = ServerProcess::inspect(pid, pid_file)?;
    let validated = server.configuration_to_validate(config.as_deref())?;
    // The same checks as `check`, on the file the server will read, so a
    // bad file is caught here, where the admin sees the message.
    let described = match &validated {
        Some(path) => path.display().to_string(),
        None => "the embedded default configuration".to_owned(),
    };
    let report = check_quietly(validated.clone())
        .with_context(|| format!("{described} (what mailsetup pid {pid} would reload)"))?;
    for warning in &report.warnings {
        eprintln!("mailsetup: warning: {warning}");
    }
    // SAFETY: kill(2) with a plain pid and signal number has no memory
    // effects; errors are reported through errno.
    if unsafe { libc::kill(pid, libc::SIGHUP) } != 0 {
        let error = std::io::Error::last_os_error();
        anyhow::bail!(
            "cannot signal process {pid} (from {}): {error}",
            pid_file.display()
        );
    }
    println!("validated {described}, the configuration mailsetup (pid {pid}) reads");
    println!("sent SIGHUP to mailsetup (pid {pid}); its log tells the outcome");
    Ok(())
}

/// The process id in a pid file, refused when kill(2) would read it as
/// more than one process.
fn read_pid_file(pid_file: &Path) -> anyhow::Result<libc::pid_t> {
    let text = std::fs::read_to_string(pid_file)
        .with_context(|| format!("cannot read the pid file {}", pid_file.display()))?;
    let text = text.trim();
    let pid: libc::pid_t = text.parse().map_err(|_| {
        anyhow::anyhow!(
            "{}: {text:?} is not a process id; give the file `serve --pid-file` writes",
            pid_file.display()
        )
    })?;
    // kill(2) reads -1 as every process the caller may signal, 0 as its
    // own process group, below -1 as a process group; 1 is init.
    let meaning = match pid {
        -1 => "every process you may signal".to_owned(),
        0 => "your own process group".to_owned(),
        1 => "init (pid 1)".to_owned(),
        group if group < -1 => format!("process group {}", -group),
        _ => return Ok(pid),
    };
    anyhow::bail!(
        "{}: refusing process id {pid}: SIGHUP would go to {meaning}; nothing was signalled \
         (a pid file written by `serve --pid-file` holds one process id above 1)",
        pid_file.display()
    )
}

/// What /proc says about the process a pid file names: enough to be sure
/// it is a `mailsetup serve` started with that pid file, and which
/// configuration it re-reads on SIGHUP.
struct ServerProcess {
    pid: libc::pid_t,
    /// Its --config, made absolute against its working directory (the
    /// server never changes directory, so a relative path means the same
    /// there); `None`: it runs the embedded default.
    config: Option<PathBuf>,
}

impl ServerProcess {
    fn inspect(pid: libc::pid_t, pid_file: &Path) -> anyhow::Result<ServerProcess> {
        let proc_dir = PathBuf::from(format!("/proc/{pid}"));
        let stale = |what: &str| {
            anyhow::anyhow!(
                "{}: process {pid} {what}; the pid file is stale (its server is gone and the \
                 number may have been reused); nothing was signalled. Is mailsetup running, \
                 started with `serve --pid-file {}`?",
                pid_file.display(),
                pid_file.display()
            )
        };
        let cmdline = match std::fs::read(proc_dir.join("cmdline")) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(stale("is not running"));
            }
            Err(error) => {
                return Err(error).with_context(|| format!("cannot read /proc/{pid}/cmdline"));
            }
        };
        let args = split_cmdline(&cmdline);
        let program = program_name(&proc_dir, args.first());
        let ours = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.file_name().map(strip_deleted))
            .unwrap_or_else(|| OsString::from("mailsetup"));
        if program.as_ref() != Some(&ours) {
            let name = program.map_or_else(|| "?".into(), |p| p.to_string_lossy().into_owned());
            return Err(stale(&format!("is {name:?}, not mailsetup")));
        }
        let shown = || {
            args.iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let Ok(Cli {
            command:
                Command::Serve {
                    config,
                    pid_file: its_pid_file,
                    ..
                },
        }) = Cli::try_parse_from(&args)
        else {
            return Err(stale(&format!("is not `mailsetup serve` ({})", shown())));
        };
        let cwd = proc_dir.join("cwd");
        let absolute = |path: PathBuf| -> anyhow::Result<PathBuf> {
            if path.is_absolute() {
                return Ok(path);
            }
            let cwd = std::fs::read_link(&cwd).with_context(|| {
                format!(
                    "cannot read {} to resolve {}",
                    cwd.display(),
                    path.display()
                )
            })?;
            Ok(cwd.join(path))
        };
        let same_pid_file = match its_pid_file {
            Some(its) => same_file(&absolute(its)?, pid_file),
            None => false,
        };
        if !same_pid_file {
            return Err(stale(&format!(
                "is a mailsetup serve that did not write this pid file ({})",
                shown()
            )));
        }
        Ok(ServerProcess {
            pid,
            config: config.map(absolute).transpose()?,
        })
    }

    /// The file to validate: the one the server re-reads. `requested` (the
    /// reload's --config) must be that file; validating another one would
    /// report on a file the server never reads.
    fn configuration_to_validate(
        &self,
        requested: Option<&Path>,
    ) -> anyhow::Result<Option<PathBuf>> {
        let pid = self.pid;
        match (requested, &self.config) {
            (None, reads) => Ok(reads.clone()),
            (Some(asked), Some(reads)) if same_file(asked, reads) => Ok(Some(reads.clone())),
            (Some(asked), Some(reads)) => anyhow::bail!(
                "--config {}: mailsetup (pid {pid}) reads {}, and a reload re-reads that file, \
                 not this one; nothing was validated or signalled. Edit {} and run reload \
                 without --config, or restart the server with --config {}",
                asked.display(),
                reads.display(),
                reads.display(),
                asked.display()
            ),
            (Some(asked), None) => anyhow::bail!(
                "--config {}: mailsetup (pid {pid}) was started without --config and a reload \
                 re-reads the embedded default, not this file; nothing was validated or \
                 signalled. Restart it with `serve --config {}`",
                asked.display(),
                asked.display()
            ),
        }
    }
}

/// /proc/<pid>/cmdline: arguments, each ended by a NUL.
fn split_cmdline(bytes: &[u8]) -> Vec<OsString> {
    use std::os::unix::ffi::OsStringExt;
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    if bytes.is_empty() {
        return Vec::new();
    }
    bytes
        .split(|b| *b == 0)
        .map(|arg| OsString::from_vec(arg.to_vec()))
        .collect()
}

/// The file name of the program a process runs: from /proc/<pid>/exe, or,
/// when that cannot be read (another user's process), its argv[0].
fn program_name(proc_dir: &Path, argv0: Option<&OsString>) -> Option<OsString> {
    match std::fs::read_link(proc_dir.join("exe")) {
        Ok(exe) => exe.file_name().map(strip_deleted),
        Err(_) => argv0.and_then(|arg| Path::new(arg).file_name().map(OsString::from)),
    }
}

/// A binary replaced while running (an upgrade) shows as
/// "mailsetup (deleted)" in /proc; it is still mailsetup.
fn strip_deleted(name: &std::ffi::OsStr) -> OsString {
    let text = name.to_string_lossy();
    OsString::from(text.strip_suffix(" (deleted)").unwrap_or(&text).to_owned())
}

/// The same file (device and inode), however the paths are spelled.
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

fn render(document: RenderDocument) -> anyhow::Result<()> {
    match document {
        RenderDocument::Thunderbird {
            email,
            config,
            user_agent,
            today,
        } => {
            let input = RenderInput::load(config, &email)?;
            let client = Client::from_user_agent(user_agent.as_deref());
            let today = day_or_today(today);
            let native = NativeTypes::for_client(&input.site.profile, client, today);
            let document = render_thunderbird_config(input.account(), native);
            write_stdout(&document.body)
        }
        RenderDocument::Autodiscover {
            email,
            schema,
            json,
            config,
            today,
        } => {
            let input = RenderInput::load(config, &email)?;
            let account = input.account();
            let document = match json {
                Some(name) => {
                    let protocol = JsonProtocol::parse(&name).with_context(|| {
                        format!("unknown protocol {name:?}; supported: {JSON_PROTOCOLS}")
                    })?;
                    let today = day_or_today(today);
                    render_autodiscover_json(account, protocol, &name, today)?
                }
                None => {
                    let schema = match schema {
                        SchemaArg::Outlook => ResponseSchema::Outlook,
                        SchemaArg::Mobilesync => ResponseSchema::MobileSync,
                    };
                    render_autodiscover_response(account, schema)
                }
            };
            write_stdout(&document.body)
        }
        RenderDocument::Mobileconfig {
            email,
            kind,
            platform,
            sign,
            config,
            today,
        } => {
            let input = RenderInput::load(config, &email)?;
            let options = ProfileOptions {
                kind,
                platform,
                today: day_or_today(today),
            };
            let mut document = render_apple_profile(&input.site, &input.address, options)?;
            if sign {
                let signer = ProfileSigner::load(&input.config.apple_signing)?.context(
                    "--sign: profile signing is off in this configuration; configure [tls] \
                     or [apple] signing_certificate and signing_key (and not sign = false)",
                )?;
                document.body = signer.sign(&document.body)?;
            }
            write_stdout(&document.body)
        }
    }
}

/// What every `render` subcommand starts from: the configuration, the
/// address from the command line and its site (from the domain table; the
/// CLI does not look up MX records).
struct RenderInput {
    config: Config,
    address: EmailAddress,
    site: Arc<Site>,
}

impl RenderInput {
    fn load(config: Option<PathBuf>, email: &str) -> anyhow::Result<RenderInput> {
        let config = Config::load(config.as_deref())?;
        let address = EmailAddress::parse(email).with_context(|| format!("{email:?}"))?;
        let site = Directory::new(&config).resolve(address.domain())?;
        Ok(RenderInput {
            config,
            address,
            site,
        })
    }

    fn account(&self) -> Account<'_> {
        Account {
            site: &self.site,
            address: Some(&self.address),
        }
    }
}

fn check(config: Option<PathBuf>) -> anyhow::Result<()> {
    let report = check_quietly(config)?;
    write_stdout(report.text.as_bytes())
}

/// What `check` found in a configuration that loads.
struct CheckReport {
    /// What `check` prints, warnings included.
    text: String,
    /// Problems that do not stop the server: skipped certificate
    /// directory entries, private keys anyone can read.
    warnings: Vec<String>,
}

/// Loads and validates everything `serve` would use; the report `check`
/// prints.
fn check_quietly(config: Option<PathBuf>) -> anyhow::Result<CheckReport> {
    let Loaded {
        config,
        certificates,
        signer,
    } = mailsetup::load::load(config.as_deref())?;
    let mut out_certificates = String::new();
    let mut warnings = Vec::new();
    if let Some(certificates) = &certificates {
        for skipped in &certificates.skipped {
            warnings.push(format!(
                "certificates_dir entry {} skipped, its names are not served with it: {}",
                skipped.path.display(),
                skipped.error
            ));
        }
        for key in &certificates.world_readable_keys {
            warnings.push(format!(
                "{}: {}",
                key.display(),
                mailsetup::tls::WORLD_READABLE_ADVICE
            ));
        }
        for certificate in &certificates.certificates {
            let _ = writeln!(
                out_certificates,
                "certificate ({}): {} expires in {:.0} days{}",
                certificate.source.as_str(),
                certificate.names.join(", "),
                certificate.days_to_expiry(),
                certificate
                    .path
                    .as_ref()
                    .map(|p| format!(" ({})", p.display()))
                    .unwrap_or_default()
            );
        }
    }
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
    out.push_str(&out_certificates);
    for warning in &warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    let _ = writeln!(out, "{:<40} {:<14} source", "domain", "profile");
    let rows = directory.table();
    // Padded by hand: `{:<40}` pads a character at a time, a fifth of
    // `check`'s time with a million domains.
    out.reserve(rows.len() * 72);
    for row in rows {
        let source = match row.source {
            SiteSource::Table => "domain table",
            SiteSource::Profile => "profile",
            SiteSource::Mx => "MX",
        };
        push_padded(&mut out, row.domain, 40);
        out.push(' ');
        push_padded(&mut out, &row.profile.id, 14);
        out.push(' ');
        out.push_str(source);
        out.push('\n');
    }
    Ok(CheckReport {
        text: out,
        warnings,
    })
}

/// `text`, then spaces up to `width` characters, like `{text:<width}`.
fn push_padded(out: &mut String, text: &str, width: usize) {
    out.push_str(text);
    let padding = width.saturating_sub(text.chars().count());
    out.extend(std::iter::repeat_n(' ', padding));
}

/// The day `--today` names, else today: the same clock `serve` uses.
fn day_or_today(today: Option<Date>) -> Date {
    today.map_or(Clock::System, Clock::Fixed).today()
}

/// `mailsetup clients`: the client table of the configuration's
/// Outlook.com and Microsoft 365 profiles, as it applies on one day.
fn clients(
    today: Option<Date>,
    format: ClientsFormat,
    config: Option<PathBuf>,
) -> anyhow::Result<()> {
    use mailsetup::clients::{self, AccountKind};
    let config = Config::load(config.as_deref())?;
    let day = day_or_today(today);
    let mut tables = Vec::new();
    for (id, kind) in [
        ("outlook", AccountKind::Personal),
        ("microsoft365", AccountKind::Work),
    ] {
        let profile = config.profiles.get(id).with_context(|| {
            format!("the configuration has no {id} profile for {}", kind.label())
        })?;
        tables.push(&profile.clients);
    }
    let rows = clients::report(&tables, day);
    let text = match format {
        ClientsFormat::Text => clients::render_text(&rows, day),
        ClientsFormat::Markdown => format!(
            "{}\nWhat a Microsoft 365 administrator must allow:\n\n{}",
            clients::render_markdown(&rows, day),
            clients::render_admin_markdown(&rows)
        ),
        ClientsFormat::Json => {
            let mut text = serde_json::to_string_pretty(&serde_json::json!({
                "today": day.to_string(),
                "rows": rows,
            }))?;
            text.push('\n');
            text
        }
    };
    write_stdout(text.as_bytes())
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
    let config = Config::load(args.config.as_deref())?;
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
    let records = dns::records::expected_records(&domain, &profile, &config.public)?;
    if !args.check {
        let text = match args.format {
            DnsFormat::Zone => dns::records::render_zone(&domain, &profile, &records),
            DnsFormat::Json => dns::records::render_json(&domain, &profile, &records),
        };
        return write_stdout(text.as_bytes());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let results = runtime.block_on(async {
        let resolver = dns::resolver::build_resolver(
            args.resolver.or(config.dns.resolver),
            CHECK_TIMEOUT,
            2,
            1024,
        )
        .map_err(anyhow::Error::msg)?;
        anyhow::Ok(dns::check::check_records(&resolver, &records, CHECK_TIMEOUT).await)
    })?;
    let text = match args.format {
        DnsFormat::Zone => dns::check::render_check_table(&results),
        DnsFormat::Json => {
            let mut text = serde_json::to_string_pretty(&results)?;
            text.push('\n');
            text
        }
    };
    write_stdout(text.as_bytes())?;
    let bad = results
        .iter()
        .filter(|r| r.status != dns::check::CheckStatus::Ok)
        .count();
    if bad > 0 {
        anyhow::bail!(
            "{bad} of {} record sets for {domain} are wrong, missing or could not be looked up",
            results.len()
        );
    }
    Ok(())
}
