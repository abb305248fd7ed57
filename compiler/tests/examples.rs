//! The shipped examples: each compiles without error, and its emitted unit
//! files (systemd target) are snapshot-tested. Paths are compiled as if the
//! examples lived under `/srv/devctl/examples` so snapshots do not depend on
//! the checkout location.

use std::path::{Path, PathBuf};

use devctl_compiler::{Compiled, compile_file, compile_str, emit_devctl, emit_systemd};

const EXAMPLES: &[&str] = &["webapp", "monorepo", "containers"];
/// Where the exports say devctl lives (its readiness gates run it by path).
const DEVCTL: &str = "/usr/local/bin/devctl";

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// Compile an example as if it lived in /srv/devctl/examples/NAME.
pub fn compile_example(name: &str) -> Compiled {
    let text = std::fs::read_to_string(examples_dir().join(name).join("devctl.kdl")).unwrap();
    let fake = PathBuf::from(format!("/srv/devctl/examples/{name}/devctl.kdl"));
    match compile_str(&text, &fake) {
        Ok(c) => c,
        Err(e) => panic!("{name}: {:?}", miette::Report::new(e)),
    }
}

fn concat(files: &std::collections::BTreeMap<String, String>) -> String {
    files
        .iter()
        .map(|(name, text)| format!("=== {name} ===\n{text}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn examples_compile_from_disk() {
    for name in EXAMPLES {
        let c = compile_file(&examples_dir().join(name).join("devctl.kdl"))
            .unwrap_or_else(|e| panic!("{name}: {:?}", miette::Report::new(e)));
        assert!(c.units.len() >= 4, "{name}");
        assert!(c.root.is_absolute());
    }
}

#[test]
fn devctl_snapshots() {
    for name in EXAMPLES {
        insta::assert_snapshot!(
            format!("devctl_{name}"),
            concat(&emit_devctl(&compile_example(name)))
        );
    }
}

/// What the compiler writes, the supervisor reads back unchanged.
#[test]
fn devctl_unit_files_round_trip() {
    for name in EXAMPLES {
        let c = compile_example(name);
        let files = emit_devctl(&c);
        assert_eq!(files.len(), c.units.len(), "{name}: file names collide");
        for u in &c.units {
            let text = &files[&u.file_name()];
            let back = devctl_units::from_unit_file(&u.file_name(), text)
                .unwrap_or_else(|e| panic!("{name}/{}: {e}\n{text}", u.name));
            assert_eq!(&back, u, "{name}/{}", u.name);
        }
    }
}

#[test]
fn output_is_deterministic() {
    for name in EXAMPLES {
        let (a, b) = (compile_example(name), compile_example(name));
        assert_eq!(a, b);
        assert_eq!(emit_devctl(&a), emit_devctl(&b));
        assert_eq!(
            emit_systemd(&a, Path::new(DEVCTL)),
            emit_systemd(&b, Path::new(DEVCTL))
        );
    }
}

#[test]
fn systemd_snapshots() {
    for name in EXAMPLES {
        let out = emit_systemd(&compile_example(name), Path::new(DEVCTL));
        let warnings: Vec<String> = out.warnings.iter().map(|w| w.to_string()).collect();
        insta::assert_snapshot!(
            format!("systemd_{name}"),
            format!(
                "{}\n=== warnings ===\n{}\n",
                concat(&out.files),
                warnings.join("\n")
            )
        );
    }
}

/// Write the systemd export of `c` to a temporary directory and run
/// `systemd-analyze verify --user` on every file; it must pass with no
/// output at all (warnings included).
pub fn systemd_verify(c: &Compiled) {
    let dir = tempfile::tempdir().unwrap();
    // verify checks that ExecStartPost='s program exists: a stand-in devctl.
    let devctl = dir.path().join("devctl");
    std::fs::write(&devctl, "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(&devctl, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = emit_systemd(c, &devctl);
    let runtime = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = vec![
        "verify".into(),
        "--user".into(),
        "--man=no".into(),
        "--recursive-errors=no".into(),
    ];
    for (name, text) in &out.files {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        args.push(p.display().to_string());
    }
    let res = std::process::Command::new("/usr/bin/systemd-analyze")
        .args(&args)
        .env("XDG_RUNTIME_DIR", runtime.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(
        res.status.success() && stderr.trim().is_empty(),
        "{}: systemd-analyze verify failed:\n{stderr}",
        c.project
    );
}

#[test]
fn systemd_analyze_verifies_every_example() {
    for name in EXAMPLES {
        systemd_verify(&compile_example(name));
    }
}
