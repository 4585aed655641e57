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
        ServeProcess::ready(command.stdout(Stdio::piped()).spawn().unwrap())
    }

    /// Waits until `child` (a `serve_command` with stdout piped) prints
    /// `mailsetup ready`.
    pub fn ready(mut child: Child) -> ServeProcess {
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
    /// Sends `signal` (`TERM`, `INT`, `HUP`...) with kill(1).
    pub fn signal(&self, signal: &str) {
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

/// GET `path` on a new plain-HTTP connection (`Connection: close`): the
/// whole answer, or the connection error.
pub async fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    Ok(answer)
}

/// Writes `bytes` into a FIFO that the server has open, or is opening,
/// for reading, without ever blocking: a reader that does not come within
/// 20 s fails the test instead of hanging it.
pub fn write_fifo(fifo: &Path, bytes: &[u8]) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut pipe = loop {
        match std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(fifo)
        {
            Ok(pipe) => break pipe,
            // ENXIO: nobody has it open for reading yet.
            Err(error) if error.raw_os_error() == Some(libc::ENXIO) => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "no reader for {}",
                    fifo.display()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(error) => panic!("{}: {error}", fifo.display()),
        }
    };
    // Non-blocking: a full pipe (64 KiB) is waited for, briefly.
    let mut rest = bytes;
    while !rest.is_empty() {
        match pipe.write(rest) {
            Ok(written) => rest = &rest[written..],
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "{} is not read",
                    fifo.display()
                );
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(error) => panic!("{}: {error}", fifo.display()),
        }
    }
}
