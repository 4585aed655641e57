//! A DNS stand-in on loopback: an authoritative-only UDP server built on
//! hickory-proto's message types, serving zone files the test writes
//! (parsed by hickory-proto's zone parser, as a real server would). It
//! counts the queries it gets and can be made slow; a "down" server is an
//! address where nothing listens (`DnsStandIn::down_address`).

use std::net::{SocketAddr, UdpSocket as StdUdpSocket};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::{LowerName, Name, RData, Record, RecordType};
use hickory_proto::serialize::txt::Parser;

#[derive(Default)]
struct State {
    /// Zone origins (lower case) with their SOA record.
    zones: Vec<(LowerName, Record)>,
    records: Vec<Record>,
    /// Every question received: (name without the final dot, type).
    queries: Vec<(String, RecordType)>,
    /// Wait this long before answering.
    delay: Duration,
}

pub struct DnsStandIn {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl DnsStandIn {
    /// Starts on 127.0.0.1 with an ephemeral port, on a thread of its own
    /// (so sync tests that run the CLI as a process can use it too).
    pub fn start() -> DnsStandIn {
        let socket = StdUdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_nonblocking(true).unwrap();
        let addr = socket.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let thread_state = state.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(serve(socket, thread_state, stopped));
        });
        DnsStandIn {
            addr,
            state,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// An address where no DNS server listens: queries are refused by the
    /// kernel (ICMP port unreachable) or go unanswered.
    pub fn down_address() -> SocketAddr {
        let socket = StdUdpSocket::bind("127.0.0.1:0").unwrap();
        socket.local_addr().unwrap()
    }

    /// Loads a zone file (RFC 1035 master format, with an SOA) for
    /// `origin`, replacing that zone if it was loaded before.
    pub fn load_zone(&self, origin: &str, text: &str) {
        let origin = Name::from_ascii(origin).unwrap();
        let (origin, sets) = Parser::new(text, None, Some(origin))
            .parse()
            .unwrap_or_else(|e| panic!("zone does not parse: {e}\n{text}"));
        let lower_origin = LowerName::new(&origin);
        let mut records: Vec<Record> = sets
            .values()
            .flat_map(|set| set.records_without_rrsigs().cloned())
            .collect();
        let soa = records
            .iter()
            .find(|r| r.record_type() == RecordType::SOA && LowerName::new(&r.name) == lower_origin)
            .cloned()
            .expect("the zone has an SOA at its origin");
        let mut state = self.state.lock().unwrap();
        state.zones.retain(|(o, _)| *o != lower_origin);
        state
            .records
            .retain(|r| !lower_origin.zone_of(&LowerName::new(&r.name)));
        state.zones.push((lower_origin, soa));
        state.records.append(&mut records);
    }

    /// Makes every answer wait `delay` (zero: answer at once).
    pub fn set_delay(&self, delay: Duration) {
        self.state.lock().unwrap().delay = delay;
    }

    /// The questions received so far.
    pub fn queries(&self) -> Vec<(String, RecordType)> {
        self.state.lock().unwrap().queries.clone()
    }

    /// How many times `name` was asked for with `kind`.
    pub fn count(&self, name: &str, kind: RecordType) -> usize {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.queries()
            .iter()
            .filter(|(n, k)| *n == name && *k == kind)
            .count()
    }
}

impl Drop for DnsStandIn {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    socket: StdUdpSocket,
    state: Arc<Mutex<State>>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let socket = Arc::new(tokio::net::UdpSocket::from_std(socket).unwrap());
    let mut buf = vec![0u8; 4096];
    loop {
        let (len, peer) = tokio::select! {
            _ = &mut stopped => return,
            received = socket.recv_from(&mut buf) => match received {
                Ok(received) => received,
                Err(_) => continue,
            },
        };
        let Ok(request) = Message::from_vec(&buf[..len]) else {
            continue;
        };
        let delay = {
            let mut state = state.lock().unwrap();
            for query in &request.queries {
                let name = query.name().to_ascii();
                state.queries.push((
                    name.trim_end_matches('.').to_ascii_lowercase(),
                    query.query_type(),
                ));
            }
            state.delay
        };
        let response = answer(&state.lock().unwrap(), &request);
        let socket = socket.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if let Ok(bytes) = response.to_vec() {
                let _ = socket.send_to(&bytes, peer).await;
            }
        });
    }
}

/// An authoritative answer: the records of the asked name and type (a
/// CNAME at the name, followed once inside our data, for other types);
/// NODATA or NXDOMAIN with the zone's SOA; REFUSED outside our zones.
fn answer(state: &State, request: &Message) -> Message {
    let mut response = Message::response(request.metadata.id, OpCode::Query);
    response.metadata.message_type = MessageType::Response;
    response.metadata.recursion_desired = request.metadata.recursion_desired;
    response.metadata.authoritative = true;
    let Some(query) = request.queries.first() else {
        response.metadata.response_code = ResponseCode::FormErr;
        return response;
    };
    response.add_query(query.clone());
    let name = LowerName::new(query.name());
    let kind = query.query_type();
    let Some((_, soa)) = state.zones.iter().find(|(origin, _)| origin.zone_of(&name)) else {
        response.metadata.response_code = ResponseCode::Refused;
        return response;
    };
    let at = |name: &LowerName, kind: RecordType| -> Vec<Record> {
        state
            .records
            .iter()
            .filter(|r| LowerName::new(&r.name) == *name && r.record_type() == kind)
            .cloned()
            .collect()
    };
    let mut answers = at(&name, kind);
    if answers.is_empty() && kind != RecordType::CNAME {
        for cname in at(&name, RecordType::CNAME) {
            if let RData::CNAME(target) = &cname.data {
                answers.extend(at(&LowerName::new(&target.0), kind));
            }
            answers.insert(0, cname);
        }
    }
    if answers.is_empty() {
        let exists = state
            .records
            .iter()
            .any(|r| name.zone_of(&LowerName::new(&r.name)));
        response.metadata.response_code = if exists {
            ResponseCode::NoError
        } else {
            ResponseCode::NXDomain
        };
        response.add_authority(soa.clone());
    } else {
        response.add_answers(answers);
    }
    response
}

/// A zone file for `origin` with an SOA (negative TTL `negative_ttl`) and
/// NS, followed by `records` (zone-file lines, relative or absolute).
pub fn zone(origin: &str, negative_ttl: u32, records: &str) -> String {
    format!(
        "$ORIGIN {origin}.\n$TTL 3600\n\
         @ IN SOA ns.{origin}. hostmaster.{origin}. 1 7200 3600 1209600 {negative_ttl}\n\
         @ IN NS ns.{origin}.\n\
         ns IN A 192.0.2.53\n\
         {records}\n"
    )
}
