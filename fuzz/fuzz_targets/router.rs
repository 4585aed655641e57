//! The whole router on arbitrary requests: method, path and query, headers
//! and body come from the input. It must answer, never panic, and never
//! answer 5xx (every client mistake is a 4xx) nor ask for credentials.
//!
//! Input layout (so the seed corpus is readable): the first line is
//! `METHOD TARGET`, then `Name: value` header lines, an empty line, and the
//! body. Inputs that `http` cannot even build into a request are skipped.
#![no_main]

use std::sync::OnceLock;

use bytes::Bytes;
use http::Request;
use libfuzzer_sys::fuzz_target;
use mailsetup::router::{App, route};

/// Built once: the embedded default configuration plus domains of every
/// kind of profile (the same as `mailsetup serve` without --config).
fn app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        let config =
            mailsetup::config::Config::load(None).expect("the default configuration loads");
        App::new(config)
    })
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime")
    })
}

fn request_from(data: &[u8]) -> Option<Request<Bytes>> {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (data, &[][..]),
    };
    let head = std::str::from_utf8(head).ok()?;
    let mut lines = head.split('\n');
    let (method, target) = lines.next()?.split_once(' ')?;
    let mut builder = Request::builder().method(method).uri(target);
    for line in lines {
        let (name, value) = line.split_once(':')?;
        builder = builder.header(name, value.trim_start());
    }
    builder.body(Bytes::copy_from_slice(body)).ok()
}

fuzz_target!(|data: &[u8]| {
    let Some(request) = request_from(data) else {
        return;
    };
    let (response, _) = runtime().block_on(route(app(), &request, None));
    let status = response.status();
    assert!(
        !status.is_server_error(),
        "{status} for {} {}",
        request.method(),
        request.uri()
    );
    assert!(response.headers().get("www-authenticate").is_none());
});
