//! The side-by-side markdown table: one row per (task, concurrency), one column group per mode.

use std::fmt;

use crate::load::Measured;

/// Throughput and latency percentiles of one load point.
#[derive(Debug, Clone, Copy)]
pub struct Point {
    pub throughput: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
}

impl From<&Measured> for Point {
    fn from(measured: &Measured) -> Point {
        let ms = |p| measured.percentile(p).as_secs_f64() * 1e3;
        Point {
            throughput: measured.throughput(),
            p50_ms: ms(50.0),
            p90_ms: ms(90.0),
            p99_ms: ms(99.0),
        }
    }
}

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:.2} req/s, p50 {:.1} / p90 {:.1} / p99 {:.1} ms",
            self.throughput, self.p50_ms, self.p90_ms, self.p99_ms
        )
    }
}

pub struct Table {
    title: String,
    modes: Vec<&'static str>,
    rows: Vec<(String, usize, Vec<Option<Point>>)>,
}

impl Table {
    pub fn new(title: String, modes: Vec<&'static str>) -> Table {
        Table {
            title,
            modes,
            rows: Vec::new(),
        }
    }

    pub fn add(&mut self, task: &str, concurrency: usize, mode: &str, point: Point) {
        let column = self.modes.iter().position(|m| *m == mode).unwrap_or(0);
        let row = match self
            .rows
            .iter()
            .position(|(t, c, _)| t == task && *c == concurrency)
        {
            Some(row) => row,
            None => {
                self.rows
                    .push((task.to_owned(), concurrency, vec![None; self.modes.len()]));
                self.rows.len() - 1
            }
        };
        self.rows[row].2[column] = Some(point);
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "### {}\n", self.title)?;
        write!(f, "| task | clients |")?;
        for mode in &self.modes {
            write!(f, " {mode}: req/s | p50 ms | p90 ms | p99 ms |")?;
        }
        write!(f, "\n| --- | ---: |")?;
        for _ in &self.modes {
            write!(f, " ---: | ---: | ---: | ---: |")?;
        }
        writeln!(f)?;
        let mut rows: Vec<_> = self.rows.iter().collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        for (task, concurrency, points) in rows {
            write!(f, "| {task} | {concurrency} |")?;
            for point in points {
                match point {
                    Some(p) => write!(
                        f,
                        " {:.2} | {:.1} | {:.1} | {:.1} |",
                        p.throughput, p.p50_ms, p.p90_ms, p.p99_ms
                    )?,
                    None => write!(f, " – | – | – | – |")?,
                }
            }
            writeln!(f)?;
        }
        Ok(())
    }
}
