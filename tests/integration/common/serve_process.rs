//! `mailsetup serve` run as a separate process (the real binary, its
//! signals and its output), and the addresses it says it listens on.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

/// A running `mailsetup serve`, killed on drop, and what it printed up to
/// `mailsetup ready`.
pub struct ServeProcess {
    pub child: Child,
    /// Every stdout line up to and including `mailsetup ready`.
    pub printed: Vec<String>,
    /// The first `listening on http://` and `listening on https://`
    /// addresses.
    pub http: SocketAddr,
    pub https: SocketAddr,
}

/// `mailsetup serve --config <config>`, to add arguments to before
/// `ServeProcess::spawn`.
pub fn serve_command(config: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mailsetup"));
    command.args(["serve", "--config"]).arg(config);
    command
}

impl ServeProcess {
    /// `mailsetup serve --config <config>`, its log discarded.
    pub fn start(config: &Path) -> ServeProcess {
        ServeProcess::spawn(serve_command(config).stderr(Stdio::null()))
    }

    /// Starts `command` (a `serve_command`) with stdout piped and waits
    /// until it prints `mailsetup ready`.
    pub fn spawn(command: &mut Command) -> ServeProcess {
        let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut printed = Vec::new();
        for line in stdout.lines() {
            let line = line.unwrap();
            let ready = line == "mailsetup ready";
            printed.push(line);
            if ready {
                break;
            }
        }
        assert_eq!(
            printed.last().map(String::as_str),
            Some("mailsetup ready"),
            "{printed:?}"
        );
        let listening = |scheme: &str| -> SocketAddr {
            let prefix = format!("listening on {scheme}://");
            printed
                .iter()
                .find_map(|l| l.strip_prefix(&prefix))
                .unwrap_or_else(|| panic!("no {scheme} line in {printed:?}"))
                .parse()
                .unwrap()
        };
        ServeProcess {
            http: listening("http"),
            https: listening("https"),
            printed,
            child,
        }
    }

    /// Sends `signal` (`kill -<signal>`).
    fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(&pid)
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{signal} {pid}");
    }

    /// Sends SIGHUP: reload the configuration.
    pub fn hang_up(&self) {
        self.signal("HUP");
    }

    /// Sends SIGTERM and returns the exit status (panics after 5 s).
    pub fn terminate(&mut self) -> ExitStatus {
        self.signal("TERM");
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child.kill().unwrap();
        panic!("mailsetup did not exit within 5 s of SIGTERM");
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
