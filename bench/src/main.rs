//! `devctl-bench`: the benchmark harness. Each scenario lives in its own
//! module (`src/<scenario>.rs`) exposing `run(args) -> Result<(), String>`
//! and prints its figures; `main` only dispatches.
//!
//! ```text
//! devctl-bench compile [--units N] [--reps N]
//! ```

mod compile;
mod stats;

const USAGE: &str = "usage: devctl-bench <scenario> [options]\n\nscenarios:\n  compile [--units N] [--reps N]   compile_str + emit_devctl on a generated manifest";

fn main() {
    let mut args = std::env::args().skip(1);
    let scenario = args.next();
    let rest: Vec<String> = args.collect();
    let result = match scenario.as_deref() {
        Some("compile") => compile::run(&rest),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(USAGE.to_owned()),
    };
    if let Err(msg) = result {
        eprintln!("{msg}");
        std::process::exit(2);
    }
}
