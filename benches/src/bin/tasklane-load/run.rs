//! The timed run: N connections, each sending its next request as soon as the previous answer
//! is read (a closed loop, as wrk does), for a warm-up and then a measured window. Latencies go
//! to one HDR histogram per connection, merged at the end.
//!
//! A closed loop measures the service time the clients saw, not the latency an open stream of
//! arrivals would see once the server falls behind (coordinated omission): at a fixed
//! concurrency the two agree while the server keeps up, which is what the targets ask about.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use hyper::StatusCode;

use crate::client::Connection;
use crate::workload::Plan;
use crate::Failure;

/// The highest latency the histogram records, in microseconds (a minute).
const MAX_LATENCY_MICROS: u64 = 60_000_000;

/// How a run is made.
#[derive(Clone, Copy, Debug)]
pub struct RunSettings {
    /// The server.
    pub address: SocketAddr,
    /// Concurrent keep-alive connections.
    pub connections: usize,
    /// Time before measuring starts (connections are open and requests flowing).
    pub warmup: Duration,
    /// The measured window.
    pub measure: Duration,
}

/// What the connections saw in the measured window.
pub struct Tally {
    /// Latencies of answered requests (any status), in microseconds.
    pub latencies: Histogram<u64>,
    /// Answers by status.
    pub statuses: BTreeMap<u16, u64>,
    /// Exchanges that failed without an answer (connection refused, reset, ...).
    pub failed_exchanges: u64,
    /// The first such failure, to show.
    pub first_failure: Option<String>,
    /// The first answer that was not a success: status and the start of its body.
    pub first_error_answer: Option<(StatusCode, String)>,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            latencies: Histogram::new_with_bounds(1, MAX_LATENCY_MICROS, 3)
                .expect("valid histogram bounds"),
            statuses: BTreeMap::new(),
            failed_exchanges: 0,
            first_failure: None,
            first_error_answer: None,
        }
    }

    fn merge(&mut self, other: Tally) {
        self.latencies
            .add(&other.latencies)
            .expect("histograms of equal bounds");
        for (status, count) in other.statuses {
            *self.statuses.entry(status).or_default() += count;
        }
        self.failed_exchanges += other.failed_exchanges;
        self.first_failure = self.first_failure.take().or(other.first_failure);
        self.first_error_answer = self.first_error_answer.take().or(other.first_error_answer);
    }

    /// Answers with a 2xx status.
    pub fn successes(&self) -> u64 {
        self.statuses
            .iter()
            .filter(|(s, _)| (200..300).contains(*s))
            .map(|(_, c)| c)
            .sum()
    }

    /// Every answered request.
    pub fn answered(&self) -> u64 {
        self.statuses.values().sum()
    }

    /// Answers that were not a success, plus exchanges that failed.
    pub fn errors(&self) -> u64 {
        self.answered() - self.successes() + self.failed_exchanges
    }
}

/// Sends one request to each target (at most 50) and checks the answers: a success, and for
/// pages a full page. Catches a wrong token, a wrong seed or a missing route before a timed
/// run fills with errors.
pub async fn preflight(plan: &Plan, address: SocketAddr) -> Result<(), Failure> {
    let mut connection = Connection::open(address)
        .await
        .map_err(|e| format!("cannot connect to {address}: {e}"))?;
    for index in 0..plan.target_count().min(50) {
        let request = plan.request_to(index, 0, index as u64);
        let target = request.uri().clone();
        let (status, body) = connection.exchange(request).await?;
        if !status.is_success() {
            return Err(format!(
                "preflight: {target} answered {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(500)])
            )
            .into());
        }
        if let Some(expected) = plan.expected_items() {
            let page: serde_json::Value = serde_json::from_slice(&body)?;
            let items = page["items"].as_array().map_or(0, Vec::len);
            if items != expected {
                return Err(format!(
                    "preflight: {target} answered a page of {items} items, not {expected}: is the project seeded?"
                )
                .into());
            }
        }
    }
    Ok(())
}

/// Runs the plan and returns what the measured window saw, with its exact length.
pub async fn run(plan: Arc<Plan>, settings: RunSettings) -> (Tally, Duration) {
    let started = Instant::now();
    let measure_from = started + settings.warmup;
    let end = measure_from + settings.measure;
    let connections: Vec<_> = (0..settings.connections)
        .map(|index| {
            let plan = Arc::clone(&plan);
            tokio::spawn(drive(plan, settings.address, index, measure_from, end))
        })
        .collect();
    let mut tally = Tally::new();
    for connection in connections {
        match connection.await {
            Ok(one) => tally.merge(one),
            Err(e) => {
                tally.failed_exchanges += 1;
                tally
                    .first_failure
                    .get_or_insert(format!("a connection task failed: {e}"));
            }
        }
    }
    (tally, end - measure_from)
}

/// One connection's loop. Counts only exchanges that complete inside `[measure_from, end)`;
/// reconnects after a failure.
async fn drive(
    plan: Arc<Plan>,
    address: SocketAddr,
    index: usize,
    measure_from: Instant,
    end: Instant,
) -> Tally {
    let mut tally = Tally::new();
    let mut connection: Option<Connection> = None;
    let mut n = 0u64;
    while Instant::now() < end {
        let conn = match connection.as_mut() {
            Some(conn) => conn,
            None => match Connection::open(address).await {
                Ok(conn) => connection.insert(conn),
                Err(e) => {
                    let now = Instant::now();
                    if now >= measure_from && now < end {
                        tally.failed_exchanges += 1;
                        tally
                            .first_failure
                            .get_or_insert_with(|| format!("connect: {e}"));
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let request = plan.request(index, n);
        n += 1;
        let sent = Instant::now();
        let outcome = conn.exchange(request).await;
        let done = Instant::now();
        let measured = done >= measure_from && done < end;
        match outcome {
            Ok((status, body)) => {
                if measured {
                    let micros = (done - sent).as_micros() as u64;
                    tally
                        .latencies
                        .saturating_record(micros.clamp(1, MAX_LATENCY_MICROS));
                    *tally.statuses.entry(status.as_u16()).or_default() += 1;
                    if !status.is_success() && tally.first_error_answer.is_none() {
                        let text = String::from_utf8_lossy(&body[..body.len().min(300)]);
                        tally.first_error_answer = Some((status, text.into_owned()));
                    }
                }
            }
            Err(e) => {
                connection = None;
                if measured {
                    tally.failed_exchanges += 1;
                    tally
                        .first_failure
                        .get_or_insert_with(|| format!("exchange: {e}"));
                }
            }
        }
    }
    tally
}
