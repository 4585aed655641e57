//! Traps an operator falls into, each once seen in the field: a pid file
//! that names the wrong process (or every process), a pid file that is a
//! symlink, `reload --config` naming a file the server does not read, one
//! bad certificate among many, a private key anyone can read, the systemd
//! unit, and a self-signed certificate that "expires in 755717 days".

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};

use crate::common::serve_process::{ServeProcess, serve_command};
use crate::common::tools::require_programs;
use crate::common::{TestCa, TestServer, write_config_with, write_file};

fn mailsetup(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailsetup"))
        .args(args)
        .output()
        .unwrap()
}

/// `mailsetup reload --pid-file <pid_file>`, plus `--config` when given.
fn reload(pid_file: &Path, config: Option<&Path>) -> Output {
    let mut args = vec![
        "reload".as_ref(),
        "--pid-file".as_ref(),
        pid_file.as_os_str(),
    ];
    if let Some(config) = config {
        args.extend(["--config".as_ref(), config.as_os_str()]);
    }
    mailsetup(&args)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The command failed (exit 1) and its stderr says `text`; `what` names
/// the case in the failure message.
fn assert_refused(output: &Output, text: &str, what: &str) {
    assert_eq!(output.status.code(), Some(1), "{what}: {output:?}");
    let said = stderr(output);
    assert!(said.contains(text), "{what}: {said}");
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `GET /metrics` over plain HTTP from loopback (no runtime needed).
fn metrics_of(http: SocketAddr) -> String {
    let mut stream = std::net::TcpStream::connect(http).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// The value of one metrics line, by its full name and labels.
fn metric(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {series} in\n{metrics}"))
        .parse()
        .unwrap()
}

/// Polls until `condition` holds (up to 5 s).
fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    for _ in 0..100 {
        if condition() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} did not happen within 5 s");
}

// ---- reload --pid-file: only ever signal our own server ----

/// kill(2) reads -1 as "every process you may signal" and 0 as "your own
/// process group"; the old `reload` sent SIGHUP there. (Not checked by
/// running the old code: as root that would hang up the whole machine.)
#[test]
fn reload_refuses_pid_file_numbers_kill_reads_as_many_processes() {
    let dir = tempfile::tempdir().unwrap();
    for (number, meaning) in [
        ("-1", "every process you may signal"),
        ("0", "your own process group"),
        ("1", "init (pid 1)"),
        ("-42", "process group 42"),
    ] {
        let pid_file = write_file(dir.path(), "mailsetup.pid", &format!("{number}\n"));
        let output = reload(&pid_file, None);
        assert_eq!(output.status.code(), Some(1), "{number}: {output:?}");
        let stderr = stderr(&output);
        assert!(
            stderr.contains(&format!("refusing process id {number}")),
            "{stderr}"
        );
        assert!(stderr.contains(meaning), "{stderr}");
        assert!(stderr.contains("nothing was signalled"), "{stderr}");
    }
}

#[test]
fn reload_refuses_a_pid_file_that_holds_no_number() {
    let dir = tempfile::tempdir().unwrap();
    for text in ["garbage\n", "", "12 34\n"] {
        let pid_file = write_file(dir.path(), "mailsetup.pid", text);
        let output = reload(&pid_file, None);
        assert_refused(&output, "is not a process id", &format!("{text:?}"));
    }
}

/// A pid file left by a server that is gone, its number now another
/// program's: the old `reload` killed a `sleep` (exit status 129).
#[test]
fn reload_leaves_the_unrelated_process_of_a_stale_pid_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mut sleep = Command::new("sleep").arg("30").spawn().unwrap();
    let pid_file = write_file(dir.path(), "mailsetup.pid", &format!("{}\n", sleep.id()));
    let output = reload(&pid_file, None);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let message = stderr(&output);
    assert!(message.contains("is \"sleep\", not mailsetup"), "{message}");
    assert!(message.contains("the pid file is stale"), "{message}");
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        sleep.try_wait().unwrap().is_none(),
        "the sleep process was signalled"
    );
    sleep.kill().unwrap();
    sleep.wait().unwrap();
}

#[test]
fn reload_says_when_the_pid_file_names_no_running_process() {
    let dir = tempfile::tempdir().unwrap();
    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    let pid_file = write_file(dir.path(), "mailsetup.pid", &format!("{pid}\n"));
    let output = reload(&pid_file, None);
    assert_refused(&output, &format!("process {pid} is not running"), "");
}

/// Another `mailsetup serve` (another instance, or one that reused the
/// number) did not write this pid file: it is not the server meant.
#[test]
fn reload_refuses_a_mailsetup_serve_started_with_another_pid_file() {
    let ca = TestCa::new();
    let config = write_config_with(&ca, "", "");
    let its_pid_file = ca.dir.path().join("its.pid");
    let serve = ServeProcess::spawn(
        serve_command(&config)
            .arg("--pid-file")
            .arg(&its_pid_file)
            .stderr(Stdio::null()),
    );
    let other = write_file(
        ca.dir.path(),
        "other.pid",
        &format!("{}\n", serve.child.id()),
    );
    let output = reload(&other, None);
    assert_refused(&output, "did not write this pid file", "");
    assert_eq!(
        metric(
            &metrics_of(serve.http),
            "mailsetup_config_reloads_total{outcome=\"success\"}"
        ),
        0.0
    );
}

/// The old `serve` wrote through a symlink at --pid-file, overwriting the
/// file behind it.
#[test]
fn serve_replaces_a_symlinked_pid_file_and_never_writes_through_it() {
    let ca = TestCa::new();
    let config = write_config_with(&ca, "", "");
    let precious = write_file(ca.dir.path(), "precious.txt", "do not overwrite\n");
    let pid_file = ca.dir.path().join("mailsetup.pid");
    std::os::unix::fs::symlink(&precious, &pid_file).unwrap();
    let mut serve = ServeProcess::spawn(
        serve_command(&config)
            .arg("--pid-file")
            .arg(&pid_file)
            .stderr(Stdio::null()),
    );
    assert_eq!(
        std::fs::read_to_string(&precious).unwrap(),
        "do not overwrite\n"
    );
    let metadata = std::fs::symlink_metadata(&pid_file).unwrap();
    assert!(metadata.file_type().is_file(), "{metadata:?}");
    assert_eq!(
        std::fs::read_to_string(&pid_file).unwrap(),
        format!("{}\n", serve.child.id())
    );
    // No temporary file is left beside it.
    let names: Vec<String> = std::fs::read_dir(ca.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
    // The pid file it wrote works for reload.
    let output = reload(&pid_file, None);
    assert!(output.status.success(), "{output:?}");
    assert!(serve.terminate().success());
    assert!(!pid_file.exists());
    assert_eq!(
        std::fs::read_to_string(&precious).unwrap(),
        "do not overwrite\n"
    );
}

// ---- reload validates the file the server reads ----

/// The old `reload --config B` validated B while the server re-read the
/// file it was started with.
#[test]
fn reload_refuses_a_config_the_server_does_not_read() {
    let ca = TestCa::new();
    let config = write_config_with(&ca, "", "");
    let pid_file = ca.dir.path().join("mailsetup.pid");
    let serve = ServeProcess::spawn(
        serve_command(&config)
            .arg("--pid-file")
            .arg(&pid_file)
            .stderr(Stdio::null()),
    );
    let elsewhere = tempfile::tempdir().unwrap();
    let other = elsewhere.path().join("mailsetup.toml");
    std::fs::copy(&config, &other).unwrap();

    let output = reload(&pid_file, Some(&other));
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let message = stderr(&output);
    assert!(
        message.contains(&format!("reads {}", config.display())),
        "{message}"
    );
    assert!(message.contains("nothing was validated or signalled"));
    let successes = "mailsetup_config_reloads_total{outcome=\"success\"}";
    assert_eq!(metric(&metrics_of(serve.http), successes), 0.0);

    // The same file, spelled another way, is the server's.
    let spelled = config.parent().unwrap().join(".").join("mailsetup.toml");
    let output = reload(&pid_file, Some(&spelled));
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout(&output).contains(&format!("validated {}", config.display())),
        "{}",
        stdout(&output)
    );
    eventually("the reload", || {
        metric(&metrics_of(serve.http), successes) == 1.0
    });
}

/// Without --config the old `reload` validated the embedded default, so a
/// broken file was signalled and only the server's log said so.
#[test]
fn reload_without_config_validates_the_file_the_server_reads() {
    let ca = TestCa::new();
    let config = write_config_with(&ca, "", "");
    let pid_file = ca.dir.path().join("mailsetup.pid");
    let serve = ServeProcess::spawn(
        serve_command(&config)
            .arg("--pid-file")
            .arg(&pid_file)
            .stderr(Stdio::null()),
    );
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}\n[[domain]]\nname = \"new.test\"\nprofile = \"missing\"\n"),
    )
    .unwrap();
    let output = reload(&pid_file, None);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let message = stderr(&output);
    assert!(message.contains("unknown profile \"missing\""), "{message}");
    assert!(message.contains(&config.display().to_string()), "{message}");
    let metrics = metrics_of(serve.http);
    assert_eq!(
        metric(
            &metrics,
            "mailsetup_config_reloads_total{outcome=\"failure\"}"
        ),
        0.0,
        "the server was signalled"
    );
}

// ---- one bad certificate among many ----

/// `[tls]` with the test CA's leaf as default (unless `default` is given)
/// and `<ca dir>/live` as certificates directory.
fn directory_config(ca: &TestCa, default: Option<(&Path, &Path)>) -> PathBuf {
    let (certificate, private_key) = default.unwrap_or((&ca.cert_path, &ca.key_path));
    let text = format!(
        "[server]\nhttp = [\"127.0.0.1:0\"]\nhttps = [\"127.0.0.1:0\"]\nhttp_policy = \"serve\"\nmetrics_from_loopback = true\n\n\
         [tls]\ncertificate = \"{}\"\nprivate_key = \"{}\"\ncertificates_dir = \"{}\"\n\n\
         [[domain]]\nname = \"contoso.test\"\nprofile = \"microsoft365\"\n",
        certificate.display(),
        private_key.display(),
        ca.dir.path().join("live").display()
    );
    write_file(ca.dir.path(), "directory.toml", &text)
}

/// The leaf the server presents for `sni`.
async fn presented_leaf(server: &TestServer, sni: &str) -> Vec<u8> {
    let connector = tokio_rustls::TlsConnector::from(server.ca.client_config());
    let stream = tokio::net::TcpStream::connect(server.https).await.unwrap();
    let tls = connector
        .connect(ServerName::try_from(sni.to_owned()).unwrap(), stream)
        .await
        .unwrap();
    tls.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

async fn skipped_entries(server: &TestServer) -> f64 {
    let metrics = server.get("localhost", "/metrics").await.text();
    metric(&metrics, "mailsetup_certificate_entries_skipped")
}

#[tokio::test]
async fn bad_directory_entries_are_skipped_at_start_and_reload_and_the_rest_served() {
    let ca = TestCa::new();
    let live = ca.dir.path().join("live");
    let good = ca.issue_into(&live.join("good"), &["autoconfig.contoso.test"], false);
    ca.issue_into(&live.join("old"), &["autoconfig.fabrikam.test"], true);
    std::fs::create_dir_all(live.join("empty")).unwrap();
    let config = directory_config(&ca, None);
    let server = TestServer::start_from_file(ca, config).await;
    assert_eq!(
        presented_leaf(&server, "autoconfig.contoso.test").await,
        good
    );
    assert_eq!(skipped_entries(&server).await, 2.0);

    // Renewing the expired one and reloading brings it into service.
    let renewed = server
        .ca
        .issue_into(&live.join("old"), &["autoconfig.fabrikam.test"], false);
    server.reload().expect("a reload with a bad entry succeeds");
    assert_eq!(
        presented_leaf(&server, "autoconfig.fabrikam.test").await,
        renewed
    );
    assert_eq!(skipped_entries(&server).await, 1.0);

    // A renewal gone wrong on reload: the entry is skipped (counted and
    // logged) but keeps the certificate it had in service, and every
    // other name keeps its own.
    std::fs::remove_file(live.join("good/privkey.pem")).unwrap();
    server.reload().expect("a reload with a bad entry succeeds");
    assert_eq!(skipped_entries(&server).await, 2.0);
    assert_eq!(
        presented_leaf(&server, "autoconfig.contoso.test").await,
        good
    );
    assert_eq!(
        presented_leaf(&server, "autoconfig.fabrikam.test").await,
        renewed
    );

    // An entry removed is gone: its names get the default certificate.
    std::fs::remove_dir_all(live.join("good")).unwrap();
    server
        .reload()
        .expect("a reload without the entry succeeds");
    assert_eq!(skipped_entries(&server).await, 1.0);
    let default = CertificateDer::pem_file_iter(&server.ca.cert_path)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .to_vec();
    assert_eq!(
        presented_leaf(&server, "autoconfig.contoso.test").await,
        default
    );
    server.shutdown().await;
}

#[test]
fn check_names_each_skipped_entry_and_succeeds() {
    let ca = TestCa::new();
    let live = ca.dir.path().join("live");
    ca.issue_into(&live.join("good"), &["autoconfig.contoso.test"], false);
    ca.issue_into(&live.join("old"), &["autoconfig.fabrikam.test"], true);
    std::fs::create_dir_all(live.join("empty")).unwrap();
    let config = directory_config(&ca, None);
    let output = mailsetup(&["check".as_ref(), "--config".as_ref(), config.as_os_str()]);
    assert!(output.status.success(), "{output:?}");
    let report = stdout(&output);
    assert!(
        report.contains("certificate (directory): autoconfig.contoso.test"),
        "{report}"
    );
    for (entry, reason) in [
        ("old", "live/old/fullchain.pem: the certificate expired"),
        (
            "empty",
            "live/empty/fullchain.pem: cannot read certificate chain",
        ),
    ] {
        let line = report
            .lines()
            .find(|line| line.contains(&format!("entry {}", live.join(entry).display())))
            .unwrap_or_else(|| panic!("no warning for {entry} in\n{report}"));
        assert!(line.starts_with("warning: certificates_dir"), "{line}");
        assert!(line.contains(reason), "{line}");
    }
}

#[test]
fn a_bad_default_certificate_still_fails_check_and_start() {
    let ca = TestCa::new();
    let expired = ca.dir.path().join("expired");
    ca.issue_into(&expired, &["localhost"], true);
    std::fs::create_dir_all(ca.dir.path().join("live")).unwrap();
    let config = directory_config(
        &ca,
        Some((&expired.join("fullchain.pem"), &expired.join("privkey.pem"))),
    );
    for command in ["check", "serve"] {
        let output = mailsetup(&[command.as_ref(), "--config".as_ref(), config.as_os_str()]);
        assert_refused(
            &output,
            "expired/fullchain.pem: the certificate expired",
            command,
        );
    }
}

// ---- private keys anyone can read ----

#[test]
fn a_private_key_every_user_can_read_is_warned_about_by_check_and_at_start() {
    let ca = TestCa::new();
    let config = write_config_with(&ca, "", "");
    let check = || mailsetup(&["check".as_ref(), "--config".as_ref(), config.as_os_str()]);
    let warning = format!(
        "warning: {}: the private key is readable by every local user",
        ca.key_path.display()
    );

    std::fs::set_permissions(&ca.key_path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let output = check();
    assert!(output.status.success(), "{output:?}");
    assert!(!stdout(&output).contains("warning:"), "{}", stdout(&output));

    std::fs::set_permissions(&ca.key_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = check();
    assert!(output.status.success(), "{output:?}");
    assert!(stdout(&output).contains(&warning), "{}", stdout(&output));
    assert!(stdout(&output).contains("LoadCredential="));

    let log = ca.dir.path().join("serve.log");
    let mut serve =
        ServeProcess::spawn(serve_command(&config).stderr(std::fs::File::create(&log).unwrap()));
    assert!(serve.terminate().success());
    let logged = std::fs::read_to_string(&log).unwrap();
    let line = logged
        .lines()
        .find(|line| line.contains("readable by every local user"))
        .unwrap_or_else(|| panic!("no warning in the log:\n{logged}"));
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains(&ca.key_path.display().to_string()), "{line}");
}

// ---- the systemd unit ----

/// The unit parses (`systemd-analyze verify`, with our binary in place of
/// /usr/local/bin/mailsetup), hands the keys over with LoadCredential=,
/// and the production example reads every file it names from there.
#[test]
fn the_systemd_unit_passes_verify_and_matches_the_production_example() {
    let root = env!("CARGO_MANIFEST_DIR");
    let unit = std::fs::read_to_string(format!("{root}/examples/mailsetup.service")).unwrap();
    let example =
        std::fs::read_to_string(format!("{root}/examples/mailsetup.production.toml")).unwrap();
    let credentials: Vec<&str> = unit
        .lines()
        .filter_map(|line| line.strip_prefix("LoadCredential="))
        .map(|value| value.split_once(':').unwrap().0)
        .collect();
    assert!(credentials.contains(&"tls-privkey.pem"), "{credentials:?}");
    let prefix = "/run/credentials/mailsetup.service/";
    let named: Vec<&str> = example
        .match_indices(prefix)
        .map(|(at, _)| {
            let rest = &example[at + prefix.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect();
    assert!(!named.is_empty());
    for name in &named {
        assert!(
            credentials.contains(name),
            "the example reads {prefix}{name}; the unit loads only {credentials:?}"
        );
    }
    assert!(unit.contains("DynamicUser=yes"));

    if !require_programs(&["systemd-analyze"], "apt-get install systemd") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(
        dir.path(),
        "mailsetup.service",
        &unit.replace("/usr/local/bin/mailsetup", env!("CARGO_BIN_EXE_mailsetup")),
    );
    let output = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&path)
        .output()
        .unwrap();
    // verify exits 0 after "ignoring" a bad line; the warning is the signal.
    let warnings: Vec<String> = stderr(&output)
        .lines()
        .filter(|line| line.contains("mailsetup.service"))
        .map(str::to_owned)
        .collect();
    assert!(output.status.success() && warnings.is_empty(), "{output:?}");
}

// ---- the self-signed certificate ----

#[tokio::test]
async fn the_self_signed_certificate_is_valid_for_a_year() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_file(
        dir.path(),
        "self-signed.toml",
        "[server]\nhttp = [\"127.0.0.1:0\"]\nhttps = [\"127.0.0.1:0\"]\nhttp_policy = \"serve\"\nmetrics_from_loopback = true\n\n\
         [[domain]]\nname = \"contoso.test\"\nprofile = \"microsoft365\"\n",
    );
    let output = mailsetup(&["check".as_ref(), "--config".as_ref(), config.as_os_str()]);
    assert!(output.status.success(), "{output:?}");
    let report = stdout(&output);
    let line = report
        .lines()
        .find(|line| line.starts_with("certificate (self-signed)"))
        .unwrap_or_else(|| panic!("{report}"));
    assert!(line.contains("expires in 365 days"), "{line}");

    let server = TestServer::start_from_file(TestCa::new(), config).await;
    let metrics = server.get("localhost", "/metrics").await.text();
    let days = metrics
        .lines()
        .find(|line| line.starts_with("mailsetup_certificate_expiry_days{source=\"self-signed\""))
        .and_then(|line| line.rsplit(' ').next())
        .unwrap_or_else(|| panic!("{metrics}"))
        .parse::<f64>()
        .unwrap();
    assert!((364.9..=365.0).contains(&days), "{days}");
    server.shutdown().await;
}
