//! What a run prints: rate, latency percentiles, errors (loudly), and how much CPU the load tool
//! and the server used during the measured window.

use std::time::Duration;

use crate::run::Tally;

/// A process's CPU time (user + system) from `/proc/<pid>/stat`, in seconds; `None` off Linux
/// or when the process is gone. Assumes the usual 100 clock ticks per second.
pub fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name (field 2) may hold spaces; the fields after it are plain.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of the whole line (utime, stime) are the 12th and 13th after the name.
    let user: f64 = fields.get(11)?.parse().ok()?;
    let system: f64 = fields.get(12)?.parse().ok()?;
    Some((user + system) / 100.0)
}

/// CPU used by a process over the measured window, in cores.
#[derive(Clone, Copy, Debug)]
pub struct CpuShare {
    /// The load tool's.
    pub load_tool: Option<f64>,
    /// The server's (when its pid was given).
    pub server: Option<f64>,
}

/// What the report says about the run besides the tally.
pub struct RunFacts<'a> {
    /// The workload's name.
    pub workload: String,
    /// A label for the summary line (the store: `sled`, `postgres`).
    pub label: &'a str,
    /// The server's URL.
    pub url: &'a str,
    /// Concurrent connections.
    pub connections: usize,
    /// The load tool's threads.
    pub threads: usize,
    /// The warm-up before the window.
    pub warmup: Duration,
    /// The measured window.
    pub window: Duration,
    /// CPU used in the window.
    pub cpu: CpuShare,
}

fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

/// Prints the report to standard output, and an error banner to standard error when any
/// request failed.
pub fn print(facts: &RunFacts<'_>, tally: &Tally) {
    let seconds = facts.window.as_secs_f64();
    let rate = tally.answered() as f64 / seconds;
    let h = &tally.latencies;
    let (p50, p99, p999, max) = if h.is_empty() {
        (0, 0, 0, 0)
    } else {
        (
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999),
            h.max(),
        )
    };
    println!(
        "{} on {} ({}): {} connections, {} load thread{}, {:.0} s measured after {:.0} s warm-up",
        facts.workload,
        facts.url,
        facts.label,
        facts.connections,
        facts.threads,
        if facts.threads == 1 { "" } else { "s" },
        seconds,
        facts.warmup.as_secs_f64(),
    );
    println!("  requests {}   rate {:.0} req/s", tally.answered(), rate);
    println!(
        "  latency  p50 {:.3} ms   p99 {:.3} ms   p99.9 {:.3} ms   max {:.3} ms",
        ms(p50),
        ms(p99),
        ms(p999),
        ms(max)
    );
    let cores = |c: Option<f64>| c.map_or("?".to_owned(), |c| format!("{c:.2}"));
    println!(
        "  cpu      load tool {} cores, server {} cores",
        cores(facts.cpu.load_tool),
        cores(facts.cpu.server)
    );
    let errors = tally.errors();
    if errors == 0 {
        println!("  errors   none");
    } else {
        let by_status: Vec<String> = tally
            .statuses
            .iter()
            .filter(|(s, _)| !(200..300).contains(*s))
            .map(|(s, c)| format!("{c} × {s}"))
            .collect();
        println!(
            "  errors   {errors} ({}{}failed exchanges {})",
            by_status.join(", "),
            if by_status.is_empty() { "" } else { ", " },
            tally.failed_exchanges
        );
        eprintln!();
        eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
        eprintln!(
            "!!! {} RUN HAD {errors} ERRORS out of {} requests: its figures are NOT valid.",
            facts.workload.to_uppercase(),
            tally.answered() + tally.failed_exchanges
        );
        if let Some((status, body)) = &tally.first_error_answer {
            eprintln!("!!! first error answer: {status}: {body}");
        }
        if let Some(failure) = &tally.first_failure {
            eprintln!("!!! first failed exchange: {failure}");
        }
        eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
        eprintln!();
    }
    // One line for scripts to collect.
    println!(
        "RESULT workload={} label={} connections={} rps={rate:.0} p50_ms={:.3} p99_ms={:.3} p999_ms={:.3} max_ms={:.3} errors={errors} load_cpu={} server_cpu={}",
        facts.workload,
        facts.label,
        facts.connections,
        ms(p50),
        ms(p99),
        ms(p999),
        ms(max),
        cores(facts.cpu.load_tool),
        cores(facts.cpu.server),
    );
}
