//! Verbs that need no daemon: `check`, `compile` (stdout with `# <file>`
//! headers, or atomically into `-o DIR`), `cat NAME`, `completions SHELL`.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;

use crate::cli::{Cli, Target};
use crate::error::CtlError;
use crate::exit::Exit;
use crate::manifest::{self, Manifest};
use crate::opts::Context;
use crate::output::Out;

fn warn(ctx: &Context, m: &Manifest) {
    if !ctx.quiet {
        for w in &m.warnings {
            eprintln!("warning: {w}");
        }
    }
}

/// `check`.
pub fn check(ctx: &Context, out: &mut Out) -> Result<Exit, CtlError> {
    let path = ctx.manifest_path()?;
    let m = manifest::compile(&path, Target::Devctl)?;
    manifest::check_kubernetes(&path)?;
    warn(ctx, &m);
    if ctx.json {
        out.json(&serde_json::json!({"ok": true, "project": m.project, "manifest": m.path, "units": m.files.keys().collect::<Vec<_>>(), "warnings": m.warnings}))?;
    } else if !ctx.quiet {
        out.line(&format!(
            "{}: ok ({} unit files, project {})",
            m.path.display(),
            m.files.len(),
            m.project
        ))?;
    }
    Ok(Exit::Ok)
}

/// `compile [-o DIR] [--target T]`.
pub fn compile(
    ctx: &Context,
    output: Option<&Path>,
    target: Target,
    out: &mut Out,
) -> Result<Exit, CtlError> {
    let m = manifest::compile(&ctx.manifest_path()?, target)?;
    warn(ctx, &m);
    match output {
        None if ctx.json => out.json(&m.files)?,
        None => {
            for (i, (name, text)) in m.files.iter().enumerate() {
                if i > 0 {
                    out.line("")?;
                }
                out.line(&format!("# {name}"))?;
                out.raw(text)?;
            }
        }
        Some(dir) => {
            let dir = ctx.cwd.join(dir);
            write_all(&dir, &m)?;
            if ctx.json {
                out.json(
                    &serde_json::json!({"dir": dir, "files": m.files.keys().collect::<Vec<_>>()}),
                )?;
            } else if !ctx.quiet {
                out.line(&format!(
                    "wrote {} unit files to {}",
                    m.files.len(),
                    dir.display()
                ))?;
            }
        }
    }
    Ok(Exit::Ok)
}

/// Write each file atomically: temp file in `dir`, fsync, rename, fsync `dir`.
pub fn write_all(dir: &Path, m: &Manifest) -> Result<(), CtlError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CtlError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    for (name, text) in &m.files {
        let dest = dir.join(name);
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        let written = f.write_all(text.as_bytes()).and_then(|()| f.sync_all());
        if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, &dest)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(CtlError::Io {
                path: dest,
                source: e,
            });
        }
    }
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir))
}

/// `cat NAME [--target T]`.
pub fn cat(ctx: &Context, name: &str, target: Target, out: &mut Out) -> Result<Exit, CtlError> {
    let m = manifest::compile(&ctx.manifest_path()?, target)?;
    let Some(file) = m.file_of(name) else {
        return Err(CtlError::NoUnitFile {
            name: name.to_string(),
            manifest: m.path.clone(),
        });
    };
    if ctx.json {
        out.json(&serde_json::json!({"file": file, "text": m.files[file]}))?;
    } else {
        out.line(&format!("# {}", m.path.display()))?;
        out.line(&format!("# {file}"))?;
        out.raw(&m.files[file])?;
    }
    Ok(Exit::Ok)
}

/// The completion script for `shell`.
pub fn completion_script(shell: clap_complete::Shell) -> Vec<u8> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "devctl", &mut buf);
    buf
}

/// `completions SHELL`.
pub fn completions(shell: clap_complete::Shell, out: &mut Out) -> Result<Exit, CtlError> {
    out.raw(&String::from_utf8_lossy(&completion_script(shell)))?;
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_has_a_script() {
        for shell in [
            clap_complete::Shell::Bash,
            clap_complete::Shell::Zsh,
            clap_complete::Shell::Fish,
            clap_complete::Shell::Elvish,
            clap_complete::Shell::PowerShell,
        ] {
            let s = String::from_utf8(completion_script(shell)).unwrap();
            assert!(s.contains("devctl"), "{shell:?}");
            assert!(s.contains("is-active"), "{shell:?}");
        }
    }

    #[test]
    fn committed_completions_are_current() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
        for (shell, file) in [
            (clap_complete::Shell::Bash, "devctl.bash"),
            (clap_complete::Shell::Zsh, "_devctl"),
            (clap_complete::Shell::Fish, "devctl.fish"),
            (clap_complete::Shell::Elvish, "devctl.elv"),
            (clap_complete::Shell::PowerShell, "_devctl.ps1"),
        ] {
            let committed = std::fs::read(dir.join(file)).unwrap_or_default();
            assert!(
                committed == completion_script(shell),
                "ctl/completions/{file} is out of date; regenerate it with \
                 `cargo run -p devctl-ctl -- completions {shell} > ctl/completions/{file}`"
            );
        }
    }

    #[test]
    fn atomic_write_leaves_no_temp_files() {
        let tmp = tempfile::tempdir().unwrap();
        let m = Manifest {
            path: tmp.path().join("devctl.kdl"),
            root: tmp.path().into(),
            project: devctl_units::ProjectName::new("p").unwrap(),
            files: [("a.service".to_string(), "[Unit]\n".to_string())].into(),
            warnings: vec![],
        };
        let dir = tmp.path().join("out/deeper");
        write_all(&dir, &m).unwrap();
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["a.service"]);
        assert_eq!(m.file_of("a"), Some("a.service"));
        assert_eq!(m.file_of("b"), None);
        let blocked = tmp.path().join("file");
        std::fs::write(&blocked, "").unwrap();
        assert!(matches!(write_all(&blocked, &m), Err(CtlError::Io { .. })));
    }
}
