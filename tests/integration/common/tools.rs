//! External tools the tests drive (Thunderbird, Chromium, Pebble, OpenSSL,
//! BIND's zone checker, Python), and the one rule for a missing one: the
//! test is skipped locally, saying why, and fails under `CI=true`, where
//! `.ci/run` installs every tool.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Under `CI=true` a missing tool is a failure: CI must run every test.
pub fn ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// A test cannot run because of `reason` (a tool is missing): panics under
/// `CI=true`, otherwise prints `skipped: <reason>` and returns, and the
/// caller returns early.
pub fn skip_or_fail(reason: &str) {
    if ci() {
        panic!("CI=true but {reason}; .ci/run installs every tool the tests use");
    }
    eprintln!("skipped: {reason}");
}

/// Where `program` is: itself when it is a path to a file, else the first
/// match on `PATH`. Says nothing when it is missing.
pub fn find_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(PathBuf::from(program)).filter(|path| path.is_file());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// True when every one of `programs` is installed; otherwise names the
/// missing ones and how to get them (`install`) through `skip_or_fail`.
pub fn require_programs(programs: &[&str], install: &str) -> bool {
    let missing: Vec<&str> = programs
        .iter()
        .copied()
        .filter(|program| find_program(program).is_none())
        .collect();
    if missing.is_empty() {
        return true;
    }
    skip_or_fail(&format!("{} not installed ({install})", missing.join(", ")));
    false
}

/// True when `python3` can import `module`; otherwise see `skip_or_fail`.
pub fn require_python_module(module: &str) -> bool {
    let works = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !works {
        skip_or_fail(&format!(
            "python3 with the {module} module is not installed (apt-get install python3)"
        ));
    }
    works
}

/// A Python virtual environment `target/<name>` with the given PyPI
/// packages, created on first use. `None` (see `skip_or_fail`) when Python
/// or the packages cannot be had.
pub fn python_venv(name: &str, packages: &[&str]) -> Option<PathBuf> {
    // Tests run in parallel threads: only one of them may create the venv
    // (the others wait and reuse it).
    static CREATING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _creating = CREATING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let venv = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(name);
    let python = venv.join("bin/python3");
    let marker = venv.join(format!(".installed-{}", packages.join("+")));
    if marker.exists() {
        return Some(python);
    }
    let run = |command: &mut Command| -> Result<(), String> {
        let output = command.output().map_err(|e| e.to_string())?;
        if output.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    };
    let result = run(Command::new("python3").args(["-m", "venv"]).arg(&venv)).and_then(|()| {
        run(Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(packages))
    });
    match result {
        Ok(()) => {
            std::fs::write(&marker, "").unwrap();
            Some(python)
        }
        Err(reason) => {
            skip_or_fail(&format!(
                "the Python venv {name} ({packages:?}) cannot be set up \
                 (apt-get install python3-venv): {reason}"
            ));
            None
        }
    }
}

/// `bytes` decompressed by GNU gzip (`gzip -dc`): an implementation
/// independent of the server's (flate2/miniz_oxide). `None` when gzip is
/// not installed (see `skip_or_fail`); panics when gzip refuses the bytes.
pub fn gunzip(bytes: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    if !require_programs(&["gzip"], "apt-get install gzip") {
        return None;
    }
    let mut child = Command::new("gzip")
        .arg("-dc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        output.status.success(),
        "gzip -dc refused the body: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(output.stdout)
}
