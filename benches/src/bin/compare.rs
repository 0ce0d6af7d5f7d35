//! Runs every workload on minirt, tokio and smol, interleaved, and prints one
//! markdown table of medians with the peer/minirt ratios.
//!
//! Why interleaved: on a shared 2-core machine the speed drifts over a run;
//! running minirt, tokio, smol, minirt, tokio, smol, ... spreads any drift
//! over all three columns instead of biasing one.
//!
//! ```text
//! cargo run --release -p minirt-benches --bin compare -- [--quick] [--filter SUBSTR] [--json FILE]
//! ```

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use minirt_benches::alloc_counter::CountingAlloc;
use minirt_benches::{runner, Runner, Runtime, Unit, Workload, WORKLOADS};

/// Counts heap bytes for `memory_per_task`; idle (one relaxed load per
/// allocation) while the time workloads run.
#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

/// Command-line settings.
struct Options {
    /// Fewer rounds and shorter samples (CI; under two minutes).
    quick: bool,
    /// Only workloads whose id contains this.
    filter: Option<String>,
    /// Where to write the JSON results.
    json: Option<PathBuf>,
}

/// How long to sample, from the options.
struct Plan {
    /// Interleaved rounds; the median over them is reported.
    rounds: usize,
    /// Target duration of one sample (one call of a time runner).
    sample: Duration,
    /// Rounds of the workloads sampled one run at a time (cold starts,
    /// user CPU), whose runs are long or slow to set up.
    single_rounds: usize,
}

/// One table row: a value per runtime (in `Runtime::ALL` order).
struct Row {
    workload: Workload,
    /// Median ns per iteration, or bytes per task; `None` is `n/a`.
    values: [Option<f64>; 3],
}

const USAGE: &str = "usage: compare [--quick] [--filter SUBSTR] [--json FILE]";

fn main() -> ExitCode {
    // A child started to time one smol `spawn_blocking_burst` exits here.
    minirt_benches::blocking_burst::serve_child_run();
    let options = match parse_options(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    minirt_benches::params::set_quick(options.quick);
    let plan = if options.quick {
        Plan {
            rounds: 9,
            sample: Duration::from_millis(30),
            single_rounds: 3,
        }
    } else {
        Plan {
            rounds: 21,
            sample: Duration::from_millis(100),
            single_rounds: 21,
        }
    };
    let started = Instant::now();
    let rows: Vec<Row> = WORKLOADS
        .iter()
        .filter(|w| options.filter.as_deref().is_none_or(|f| w.id.contains(f)))
        .map(|workload| measure(*workload, &plan))
        .collect();
    if rows.is_empty() {
        eprintln!("no workload matches the filter");
        return ExitCode::FAILURE;
    }
    print!("{}", render_table(&rows));
    eprintln!("(measured in {:.1} s)", started.elapsed().as_secs_f64());
    if let Some(path) = &options.json {
        if let Err(error) = std::fs::write(path, render_json(&rows)) {
            eprintln!("writing {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

fn parse_options(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        quick: false,
        filter: None,
        json: None,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--filter" => options.filter = Some(args.next().ok_or("--filter needs a substring")?),
            "--json" => options.json = Some(args.next().ok_or("--json needs a file name")?.into()),
            // `cargo bench` passes this to every bench-like target.
            "--bench" => {}
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(options)
}

/// Measures one workload on every runtime that has it.
fn measure(workload: Workload, plan: &Plan) -> Row {
    let runners = Runtime::ALL.map(|runtime| runner(runtime, workload.id));
    eprint!("{:<18}", workload.id);
    let values = match workload.unit {
        Unit::Time => measure_time(&runners, plan),
        Unit::ColdTime => measure_single(&runners, plan, true),
        Unit::Cpu => measure_single(&runners, plan, false),
        Unit::Bytes => measure_bytes(&runners, plan),
    };
    eprintln!(" done");
    Row { workload, values }
}

/// Median ns per iteration for each runtime, sampled interleaved.
fn measure_time(runners: &[Option<Runner>; 3], plan: &Plan) -> [Option<f64>; 3] {
    let runs = runners.map(|r| match r {
        Some(Runner::Time(run)) => Some(run),
        _ => None,
    });
    // Warm up each runtime once and size the samples from the fastest, so
    // every runtime does the same number of iterations per sample.
    let fastest = runs
        .iter()
        .flatten()
        .map(|run| run(1))
        .min()
        .unwrap_or(plan.sample);
    let iters = (plan.sample.as_nanos() / fastest.as_nanos().max(1)).clamp(1, 10_000_000) as u64;
    let mut samples: [Vec<f64>; 3] = Default::default();
    for _ in 0..plan.rounds {
        for (run, samples) in runs.iter().zip(&mut samples) {
            if let Some(run) = run {
                samples.push(run(iters).as_nanos() as f64 / iters as f64);
            }
        }
        eprint!(".");
    }
    samples.map(median)
}

/// Median of one run's value for each runtime (ns of a cold run, or user
/// CPU ns per operation), sampled interleaved, after one warm-up run each if
/// `warm_up` (which pays one-time set-up, not the cold start). One run per
/// sample: a cold start cannot be looped, and a user-CPU run is long already.
fn measure_single(runners: &[Option<Runner>; 3], plan: &Plan, warm_up: bool) -> [Option<f64>; 3] {
    let runs = runners.map(|r| match r {
        Some(Runner::Time(run)) => Some(run),
        _ => None,
    });
    if warm_up {
        for run in runs.iter().flatten() {
            run(1);
        }
    }
    let mut samples: [Vec<f64>; 3] = Default::default();
    for _ in 0..plan.single_rounds {
        for (run, samples) in runs.iter().zip(&mut samples) {
            if let Some(run) = run {
                samples.push(run(1).as_nanos() as f64);
            }
        }
        eprint!(".");
    }
    samples.map(median)
}

/// Median bytes per task for each runtime, sampled interleaved.
fn measure_bytes(runners: &[Option<Runner>; 3], plan: &Plan) -> [Option<f64>; 3] {
    let mut samples: [Vec<f64>; 3] = Default::default();
    for _ in 0..plan.rounds {
        for (runner, samples) in runners.iter().zip(&mut samples) {
            if let Some(Runner::Bytes(run)) = runner {
                samples.extend(run());
            }
        }
        eprint!(".");
    }
    samples.map(median)
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

/// `peer / minirt`: above 1 means minirt is faster (or smaller).
fn ratio(peer: Option<f64>, minirt: Option<f64>) -> Option<f64> {
    match (peer, minirt) {
        (Some(peer), Some(minirt)) if minirt > 0.0 => Some(peer / minirt),
        _ => None,
    }
}

fn geometric_mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let log_sum: f64 = values.iter().map(|v| v.ln()).sum();
    Some((log_sum / values.len() as f64).exp())
}

fn render_table(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str("| workload | minirt | tokio | smol | tokio/minirt | smol/minirt |\n");
    out.push_str("| --- | ---: | ---: | ---: | ---: | ---: |\n");
    let mut tokio_ratios = Vec::new();
    let mut smol_ratios = Vec::new();
    for row in rows {
        let [minirt, tokio, smol] = row.values;
        let cell = |value: Option<f64>| {
            value.map_or("n/a".to_owned(), |v| format_value(row.workload.unit, v))
        };
        let tokio_ratio = ratio(tokio, minirt);
        let smol_ratio = ratio(smol, minirt);
        tokio_ratios.extend(tokio_ratio);
        smol_ratios.extend(smol_ratio);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            row.workload.id,
            cell(minirt),
            cell(tokio),
            cell(smol),
            format_ratio(tokio_ratio),
            format_ratio(smol_ratio),
        );
    }
    let _ = writeln!(
        out,
        "| **geometric mean** | | | | {} | {} |",
        format_ratio(geometric_mean(&tokio_ratios)),
        format_ratio(geometric_mean(&smol_ratios)),
    );
    out
}

fn format_ratio(ratio: Option<f64>) -> String {
    ratio.map_or("n/a".to_owned(), |r| format!("{r:.2}"))
}

/// A time in ns as `123 ns`, `12.3 µs`, `1.23 ms` or `1.23 s`; bytes as `123 B`.
fn format_value(unit: Unit, value: f64) -> String {
    match unit {
        Unit::Bytes => format!("{value:.0} B"),
        Unit::Cpu => format!("{} CPU", format_value(Unit::Time, value)),
        Unit::Time | Unit::ColdTime if value < 1e3 => format!("{value:.1} ns"),
        Unit::Time | Unit::ColdTime if value < 1e6 => format!("{:.2} µs", value / 1e3),
        Unit::Time | Unit::ColdTime if value < 1e9 => format!("{:.2} ms", value / 1e6),
        Unit::Time | Unit::ColdTime => format!("{:.2} s", value / 1e9),
    }
}

/// `{"<workload>": {"minirt": ns, "tokio": ns, "smol": ns}}`, `null` for n/a.
fn render_json(rows: &[Row]) -> String {
    let mut out = String::from("{\n");
    for (index, row) in rows.iter().enumerate() {
        let fields: Vec<String> = Runtime::ALL
            .iter()
            .zip(row.values)
            .map(|(runtime, value)| {
                let value = value.map_or("null".to_owned(), |v| format!("{v:.1}"));
                format!("\"{}\": {value}", runtime.name())
            })
            .collect();
        let comma = if index + 1 < rows.len() { "," } else { "" };
        let _ = writeln!(
            out,
            "  \"{}\": {{{}}}{comma}",
            row.workload.id,
            fields.join(", ")
        );
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_get_the_right_unit() {
        assert_eq!(format_value(Unit::Time, 42.0), "42.0 ns");
        assert_eq!(format_value(Unit::Time, 12_345.0), "12.35 µs");
        assert_eq!(format_value(Unit::Time, 1_234_567.0), "1.23 ms");
        assert_eq!(format_value(Unit::Time, 2.5e9), "2.50 s");
        assert_eq!(format_value(Unit::Bytes, 127.6), "128 B");
        assert_eq!(format_value(Unit::Cpu, 2_500.0), "2.50 µs CPU");
        assert_eq!(format_value(Unit::ColdTime, 1_234_567.0), "1.23 ms");
    }

    #[test]
    fn medians_and_ratios() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(vec![]), None);
        assert_eq!(ratio(Some(300.0), Some(100.0)), Some(3.0));
        assert_eq!(ratio(Some(300.0), None), None);
        let mean = geometric_mean(&[2.0, 8.0]).unwrap();
        assert!((mean - 4.0).abs() < 1e-9, "{mean}");
        assert_eq!(geometric_mean(&[]), None);
    }

    #[test]
    fn table_and_json_mark_missing_values() {
        let rows = [Row {
            workload: WORKLOADS[0],
            values: [None, Some(50.0), Some(40.0)],
        }];
        let table = render_table(&rows);
        assert!(
            table.contains("| block_on_ready | n/a | 50.0 ns | 40.0 ns | n/a | n/a |"),
            "{table}"
        );
        let json = render_json(&rows);
        assert_eq!(
            json,
            "{\n  \"block_on_ready\": {\"minirt\": null, \"tokio\": 50.0, \"smol\": 40.0}\n}\n"
        );
    }

    #[test]
    fn options_parse() {
        let args = ["--quick", "--filter", "spawn", "--json", "out.json"].map(String::from);
        let options = parse_options(args.into_iter()).unwrap();
        assert!(options.quick);
        assert_eq!(options.filter.as_deref(), Some("spawn"));
        assert_eq!(options.json, Some(PathBuf::from("out.json")));
        assert!(parse_options(["--nope".to_owned()].into_iter()).is_err());
    }
}
