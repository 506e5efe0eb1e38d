//! What the clients saw around one kill, and the report's table.

use std::time::Duration;

use mplug2_e2e_tests::crash::{Kind, Record, Requests, Seen};

#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub requests: usize,
    /// 200 / OK with the expected answer.
    pub complete: usize,
    /// Connection refused or closed, a body or stream cut.
    pub transport: usize,
    /// Of those, streams cut after part of their answer (SSE, gRPC).
    pub cut_mid_stream: usize,
    /// 503 `unavailable` with its JSON body, or the server's gRPC UNAVAILABLE.
    pub unavailable: usize,
    /// Must be 0: a success that is not whole.
    pub truncated: usize,
    /// Must be 0: a whole answer that differs from the expected one.
    pub wrong: usize,
    /// Must be 0: any other status or error.
    pub other: usize,
}

impl Tally {
    pub fn of(records: &[Record], requests: &Requests) -> Tally {
        let mut tally = Tally {
            requests: records.len(),
            ..Tally::default()
        };
        let expected: Vec<_> = Kind::ALL
            .iter()
            .map(|&k| (k, requests.expected(k)))
            .collect();
        for record in records {
            match &record.seen {
                Seen::Complete(text) if expected.contains(&(record.kind, text.clone())) => {
                    tally.complete += 1
                }
                Seen::Complete(_) => tally.wrong += 1,
                Seen::Transport { after_output, .. } => {
                    tally.transport += 1;
                    tally.cut_mid_stream += usize::from(*after_output);
                }
                Seen::Unavailable => tally.unavailable += 1,
                Seen::Truncated(_) => tally.truncated += 1,
                Seen::Other(_) => tally.other += 1,
            }
        }
        tally
    }

    fn add(&mut self, other: &Tally) {
        self.requests += other.requests;
        self.complete += other.complete;
        self.transport += other.transport;
        self.cut_mid_stream += other.cut_mid_stream;
        self.unavailable += other.unavailable;
        self.truncated += other.truncated;
        self.wrong += other.wrong;
        self.other += other.other;
    }

    pub fn bad(&self) -> usize {
        self.truncated + self.wrong + self.other
    }

    /// The report's columns from `requests` on: requests, complete, connection errors (cut
    /// mid-stream), 503 / UNAVAILABLE, truncated, wrong or other.
    fn cells(&self) -> String {
        format!(
            "{} | {} | {} ({}) | {} | {} | {}",
            self.requests,
            self.complete,
            self.transport,
            self.cut_mid_stream,
            self.unavailable,
            self.truncated,
            self.wrong + self.other
        )
    }
}

#[derive(Debug)]
pub struct Cycle {
    /// Seconds of load before the kill.
    pub delay_s: f64,
    /// Streams mid-way at the kill: (SSE, gRPC).
    pub mid_at_kill: (usize, usize),
    /// From the new process's spawn to its first HTTP answer, and to `/health/ready` 200.
    pub listening: Duration,
    pub ready: Duration,
    pub tally: Tally,
    /// The same, per kind of request.
    pub per_kind: Vec<(Kind, Tally)>,
}

pub fn report(cycles: &[Cycle], machine: &str, date: &str) -> String {
    let ms = |d: Duration| format!("{:.0}", d.as_secs_f64() * 1000.0);
    let mut text = format!(
        "Machine: {machine}; {date}.\n\n\
         | kill | load before (s) | streams mid-way (SSE/gRPC) | spawn → listening (ms) | \
         spawn → ready (ms) | requests | complete 200 | connection error (cut mid-stream) | \
         503 / UNAVAILABLE | truncated 200 | wrong or other |\n\
         | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    );
    for (i, c) in cycles.iter().enumerate() {
        text.push_str(&format!(
            "| {} | {:.1} | {}/{} | {} | {} | {} |\n",
            i + 1,
            c.delay_s,
            c.mid_at_kill.0,
            c.mid_at_kill.1,
            ms(c.listening),
            ms(c.ready),
            c.tally.cells()
        ));
    }
    text.push_str(
        "\nAll kills together, per kind of request:\n\n\
         | request | requests | complete 200 | connection error (cut mid-stream) | \
         503 / UNAVAILABLE | truncated 200 | wrong or other |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for kind in Kind::ALL {
        let mut t = Tally::default();
        for (_, of_kind) in cycles
            .iter()
            .flat_map(|c| &c.per_kind)
            .filter(|(k, _)| *k == kind)
        {
            t.add(of_kind);
        }
        text.push_str(&format!("| {} | {} |\n", kind.name(), t.cells()));
    }
    let mut ready: Vec<Duration> = cycles.iter().map(|c| c.ready).collect();
    ready.sort();
    if let (Some(min), Some(max)) = (ready.first(), ready.last()) {
        text.push_str(&format!(
            "\nSpawn to ready: min {} ms, median {} ms, max {} ms.\n",
            ms(*min),
            ms(ready[ready.len() / 2]),
            ms(*max)
        ));
    }
    text
}
