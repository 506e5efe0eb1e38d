//! The soak's plot without a plotting library: an SVG with one panel per series (resident memory,
//! p50 and p99 latency, queue depth) against time.

use std::fmt::Write;

use super::sample::Sample;

const WIDTH: f64 = 720.0;
const PANEL: f64 = 160.0;
const MARGIN: f64 = 60.0;

/// One line of a panel: label, colour, (t, value) points.
type Line<'a> = (&'a str, &'a str, Vec<(f64, f64)>);

/// One panel: a title and its lines.
struct Panel<'a> {
    title: &'a str,
    lines: Vec<Line<'a>>,
}

pub fn svg(samples: &[Sample]) -> String {
    let series = |value: fn(&Sample) -> f64| samples.iter().map(|s| (s.t_s, value(s))).collect();
    let panels = [
        Panel {
            title: "resident memory (MiB)",
            lines: vec![("RSS", "#1f77b4", series(|s| s.rss_bytes as f64 / 1048576.0))],
        },
        Panel {
            title: "latency of successful normal requests (ms)",
            lines: vec![
                ("p50", "#2ca02c", series(|s| s.latency.p50_ms)),
                ("p99", "#d62728", series(|s| s.latency.p99_ms)),
            ],
        },
        Panel {
            title: "queue depth (all modules)",
            lines: vec![("queue", "#9467bd", series(|s| s.queue_depth))],
        },
    ];
    let height = panels.len() as f64 * (PANEL + MARGIN) + MARGIN / 2.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    let t_max = samples.iter().map(|s| s.t_s).fold(1.0, f64::max);
    for (index, panel) in panels.iter().enumerate() {
        let top = MARGIN / 2.0 + index as f64 * (PANEL + MARGIN);
        let y_max = panel
            .lines
            .iter()
            .flat_map(|(_, _, points)| points.iter().map(|p| p.1))
            .filter(|v| v.is_finite())
            .fold(1e-9, f64::max);
        let (left, plot_width) = (MARGIN, WIDTH - 1.5 * MARGIN);
        let _ = writeln!(
            s,
            "<text x=\"{left}\" y=\"{}\">{} — max {y_max:.1}; t up to {t_max:.0} s</text>\n\
             <rect x=\"{left}\" y=\"{top}\" width=\"{plot_width}\" height=\"{PANEL}\" fill=\"none\" stroke=\"#888\"/>",
            top - 6.0,
            panel.title
        );
        for (n, (label, colour, points)) in panel.lines.iter().enumerate() {
            let path: Vec<String> = points
                .iter()
                .filter(|p| p.1.is_finite())
                .map(|(t, v)| {
                    let x = left + t / t_max * plot_width;
                    let y = top + PANEL - v / y_max * PANEL;
                    format!("{x:.1},{y:.1}")
                })
                .collect();
            let _ = writeln!(
                s,
                "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" points=\"{}\"/>\n\
                 <text x=\"{}\" y=\"{}\" fill=\"{colour}\">{label}</text>",
                path.join(" "),
                WIDTH - MARGIN / 2.0 - 20.0,
                top + 14.0 + 14.0 * n as f64
            );
        }
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::super::sample::{Counts, Latency, Sample};

    fn sample(t_s: f64, rss_bytes: u64) -> Sample {
        Sample {
            t_s,
            rss_bytes,
            queue_depth: 1.0,
            queue_depths: Default::default(),
            offered: 1,
            counts: Counts::default(),
            latency: Latency {
                count: 1,
                p50_ms: 10.0,
                p99_ms: 20.0,
            },
            per_task: Default::default(),
        }
    }

    #[test]
    fn every_series_is_a_line_inside_the_picture() {
        let svg = super::svg(&[sample(10.0, 1 << 20), sample(20.0, 2 << 20)]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<polyline").count(), 4);
        // The last RSS point is the panel's top right corner.
        assert!(svg.contains("690.0,30.0"), "{svg}");
        assert_eq!(super::svg(&[]).matches("<polyline").count(), 4);
    }
}
