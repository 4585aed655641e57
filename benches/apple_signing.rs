//! Signed Apple profiles per second on one core: renders the profile and
//! signs it, the work `GET /apple/<address>.mobileconfig` does per request,
//! in a loop on the current thread. Run with
//! `cargo bench --bench apple_signing` (release build).
//!
//! ECDSA P-256 keys come from rcgen; the RSA-2048 key from `openssl req`
//! (ring cannot generate RSA keys); without openssl that row is skipped.

use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use mailsetup::apple::{Platform, ProfileKind, ProfileOptions, render_apple_profile};
use mailsetup::config::Config;
use mailsetup::date::Date;
use mailsetup::email::EmailAddress;
use mailsetup::resolve::Directory;
use mailsetup::signing::ProfileSigner;

const RUN_FOR: Duration = Duration::from_secs(3);

fn main() {
    let config = Config::load(None).expect("embedded configuration");
    let directory = Directory::new(&config);
    let address = EmailAddress::parse("alice@contoso.example").unwrap();
    let site = directory.resolve(address.domain()).unwrap();
    let dir = tempfile::tempdir().unwrap();

    let render = || {
        render_apple_profile(
            &site,
            &address,
            ProfileOptions {
                kind: ProfileKind::default(),
                platform: Platform::default(),
                today: Date::today_utc(),
            },
        )
        .unwrap()
        .body
    };
    report(
        "unsigned (render only)",
        measure(|| black_box(render()).len()),
    );

    let (cert, key) = ecdsa_p256_identity(dir.path());
    let signer = ProfileSigner::from_files(&cert, &key).unwrap();
    report(
        signer.algorithm_name(),
        measure(|| black_box(signer.sign(&render()).unwrap()).len()),
    );

    match rsa_2048_identity(dir.path()) {
        Some((cert, key)) => {
            let signer = ProfileSigner::from_files(&cert, &key).unwrap();
            report(
                &format!("{} (RSA-2048)", signer.algorithm_name()),
                measure(|| black_box(signer.sign(&render()).unwrap()).len()),
            );
        }
        None => println!("skipped: RSA-2048 (openssl is not installed)"),
    }
}

/// Runs `work` for `RUN_FOR` after a short warm-up; returns per second.
fn measure(mut work: impl FnMut() -> usize) -> f64 {
    let warm_up = Instant::now();
    while warm_up.elapsed() < Duration::from_millis(300) {
        work();
    }
    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed() < RUN_FOR {
        work();
        count += 1;
    }
    count as f64 / start.elapsed().as_secs_f64()
}

fn report(what: &str, per_second: f64) {
    println!("{what:<45} {per_second:>10.0} profiles/s on one core");
}

fn ecdsa_p256_identity(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["autoconfig.contoso.example".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let cert_path = dir.join("ecdsa.pem");
    let key_path = dir.join("ecdsa.key");
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert_path, key_path)
}

fn rsa_2048_identity(dir: &Path) -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    let cert = dir.join("rsa.pem");
    let key = dir.join("rsa.key");
    let status = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=autoconfig.contoso.example", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    status.success().then_some((cert, key))
}
