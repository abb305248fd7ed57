//! Scenario `compile`: generate a manifest of N units (services with
//! dependencies, readiness and liveness probes, environment; builds every
//! tenth unit; groups of fifty) and time `compile_str` alone and
//! `compile_str` + `emit_devctl` together.

use std::fmt::Write as _;
use std::path::Path;

use crate::stats::{flag, time};

/// A realistic manifest of `n` units.
pub fn manifest(n: usize) -> String {
    let mut s = String::from("project \"bench\"\n\n");
    for i in 0..n {
        if i % 10 == 0 {
            let _ = writeln!(
                s,
                "build \"u{i}\" {{\n    sh \"make gen-{i}\"\n    watch \"gen/{i}/**\"\n    timeout \"5m\" idle-timeout=\"30s\"\n}}\n"
            );
            continue;
        }
        let _ = writeln!(s, "service \"u{i}\" {{");
        let _ = writeln!(s, "    description \"service number {i}\"");
        let _ = writeln!(
            s,
            "    run \"python3\" \"-m\" \"http.server\" \"{}\"",
            10_000 + i
        );
        let _ = writeln!(
            s,
            "    env PORT=\"{}\" RUST_LOG=\"info\" NAME=\"u{i}\"",
            10_000 + i
        );
        let _ = writeln!(s, "    port {}", 10_000 + i);
        if i >= 10 {
            let _ = writeln!(s, "    requires \"u{}\"", i / 10 * 10);
            if i % 10 != 1 {
                let _ = writeln!(s, "    wants \"u{}\" until=\"started\"", i - 1);
            }
        }
        let _ = writeln!(
            s,
            "    ready {{ http \"http://127.0.0.1:{}/healthz\" status=200; period \"200ms\"; }}",
            10_000 + i
        );
        let _ = writeln!(s, "    alive {{ tcp {}; period \"5s\"; }}", 10_000 + i);
        let _ = writeln!(
            s,
            "    restart \"on-failure\" backoff=\"1s\" max-delay=\"30s\""
        );
        let _ = writeln!(s, "    stop signal=\"SIGINT\" timeout=\"5s\"");
        let _ = writeln!(s, "}}\n");
    }
    for g in 0..n / 50 {
        let members: Vec<String> = (g * 50..(g + 1) * 50)
            .map(|i| format!("\"u{i}\""))
            .collect();
        let _ = writeln!(s, "group \"g{g}\" {{ units {}; }}", members.join(" "));
    }
    s
}

/// Run the scenario.
pub fn run(args: &[String]) -> Result<(), String> {
    let units = flag(args, "--units", 2000)?;
    let reps = flag(args, "--reps", 7)?;
    let text = manifest(units);
    let path = Path::new("/srv/bench/devctl.kdl");
    let compiled = devctl_compiler::compile_str(&text, path)
        .map_err(|e| format!("generated manifest is invalid: {e}: {}", e.errors[0]))?;
    let files = devctl_compiler::emit_devctl(&compiled).len();
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!(
        "compile: {units} units, {} KiB manifest, {files} unit files, {reps} repetitions, {profile} build",
        text.len() / 1024
    );
    let compile = time(reps, || devctl_compiler::compile_str(&text, path));
    println!("  compile_str               {compile}");
    let both = time(reps, || {
        devctl_compiler::compile_str(&text, path).map(|c| devctl_compiler::emit_devctl(&c))
    });
    println!("  compile_str + emit_devctl {both}");
    let systemd = time(reps, || {
        devctl_compiler::emit_systemd(&compiled, Path::new("/usr/local/bin/devctl"))
    });
    println!("  emit_systemd alone        {systemd}");
    Ok(())
}

/// Scenario 8 for `all`: the medians of `compile_str` and of
/// `compile_str` + `emit_devctl` for a manifest of `units` units (devctl
/// only: systemd has no compiler to compare with).
pub fn figures(units: usize, reps: usize) -> Result<Vec<crate::report::Row>, String> {
    let text = manifest(units);
    let path = Path::new("/srv/bench/devctl.kdl");
    devctl_compiler::compile_str(&text, path)
        .map_err(|e| format!("generated manifest is invalid: {e}"))?;
    let ms = |s: crate::stats::Summary| vec![s.median.as_secs_f64() * 1e3];
    let compile = ms(time(reps, || devctl_compiler::compile_str(&text, path)));
    let both = ms(time(reps, || {
        devctl_compiler::compile_str(&text, path).map(|c| devctl_compiler::emit_devctl(&c))
    }));
    Ok(vec![
        crate::report::Row::of("compile", units, "compile_str", "ms", &compile, &[], ""),
        crate::report::Row::of(
            "compile",
            units,
            "compile_str + emit_devctl",
            "ms",
            &both,
            &[],
            "",
        ),
    ])
}
