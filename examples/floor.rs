//! The floor under mailsetup's request path, for `BENCHMARKS.md`: serves
//! one file's bytes as the answer to every request, with mailsetup's
//! runtime and response headers but none of its work (no routing, address,
//! document or log line).
//!
//!   cargo run --release --example floor -- hyper 127.0.0.1:18090 FILE
//!   cargo run --release --example floor -- raw 127.0.0.1:18090 FILE
//!
//! `hyper`: hyper's HTTP/1.1 server, as mailsetup configures it (no
//! per-request header timer). `raw`: a tokio read/parse/write loop with
//! `httparse` and a fixed answer, no HTTP library: what the kernel and the
//! runtime cost alone. Keep-alive GETs only; not a server to deploy.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const CONTENT_TYPE: &str = "application/xml; charset=utf-8";

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(mode), Some(addr), Some(file)) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: floor hyper|raw ADDRESS FILE");
        std::process::exit(2);
    };
    let addr: SocketAddr = addr.parse().expect("ADDRESS is host:port");
    let body = Bytes::from(std::fs::read(&file).expect("FILE is readable"));
    let raw = match mode.as_str() {
        "hyper" => false,
        "raw" => true,
        _ => {
            eprintln!("mode is hyper or raw");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        let listener = TcpListener::bind(addr).await.expect("the address is free");
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let body = body.clone();
            tokio::spawn(async move {
                if raw {
                    serve_raw(stream, &body).await;
                } else {
                    serve_hyper(stream, body).await;
                }
            });
        }
    });
}

async fn serve_hyper(stream: TcpStream, body: Bytes) {
    let service = service_fn(move |_: Request<Incoming>| {
        let body = body.clone();
        async move {
            let response = Response::builder()
                .header("content-type", CONTENT_TYPE)
                .header("cache-control", "public, max-age=3600")
                .header("x-content-type-options", "nosniff")
                .body(Full::new(body))
                .expect("valid headers");
            Ok::<_, Infallible>(response)
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .header_read_timeout(None)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

async fn serve_raw(mut stream: TcpStream, body: &[u8]) {
    let mut answer = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {CONTENT_TYPE}\r\ncache-control: public, \
         max-age=3600\r\nx-content-type-options: nosniff\r\ndate: Wed, 02 Dec 2026 \
         00:00:00 GMT\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(body);
    let mut buffer = vec![0u8; 8192];
    let mut filled = 0;
    loop {
        match stream.read(&mut buffer[filled..]).await {
            Ok(0) | Err(_) => return,
            Ok(read) => filled += read,
        }
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut request = httparse::Request::new(&mut headers);
            match request.parse(&buffer[..filled]) {
                Ok(httparse::Status::Complete(length)) => {
                    if stream.write_all(&answer).await.is_err() {
                        return;
                    }
                    buffer.copy_within(length..filled, 0);
                    filled -= length;
                }
                Ok(httparse::Status::Partial) if filled < buffer.len() => break,
                _ => return,
            }
        }
    }
}
