//! `devctl import FILE [-o PATH] [--force]`: detect the source's format,
//! translate it ([`super::procfile`], [`super::compose`],
//! [`super::process_compose`]), write the manifest text, compile it with
//! devctl's own compiler (an import that would not pass `devctl check` is
//! never written), then write it atomically, refusing to replace an
//! existing file without `--force`. Warnings go to stderr as
//! `FILE:LINE: unit: message` and into the manifest as comments.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use miette::{NamedSource, SourceSpan};

use super::error::{ImportError, YamlReport};
use super::model::{Draft, unit_name};
use super::paths::Rebase;
use super::{compose, process_compose, procfile, write, yaml};
use crate::cli::ImportFormat;
use crate::error::{CtlError, render_report};
use crate::exit::Exit;
use crate::opts::Context;
use crate::output::Out;

/// Largest source file read (the manifest it makes has the same bound).
const MAX_SOURCE_BYTES: u64 = 1 << 20;

/// What `import` was asked to do.
#[derive(Debug, Clone)]
pub struct ImportArgs<'a> {
    pub file: &'a Path,
    /// `-` for stdout.
    pub output: &'a Path,
    pub force: bool,
    pub format: Option<ImportFormat>,
    pub base_port: u16,
}

/// The format of `path`: from its name, then from its content.
pub fn detect(path: &Path, text: &str) -> Option<ImportFormat> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let yaml_ext = name.ends_with(".yml") || name.ends_with(".yaml");
    if name.starts_with("procfile") {
        return Some(ImportFormat::Procfile);
    }
    if name.starts_with("process-compose") && yaml_ext {
        return Some(ImportFormat::ProcessCompose);
    }
    if (name.starts_with("docker-compose") || name.starts_with("compose")) && yaml_ext {
        return Some(ImportFormat::Compose);
    }
    let has_top = |key: &str| {
        text.lines()
            .any(|l| l.starts_with(key) && l[key.len()..].trim_start().starts_with(':'))
    };
    if has_top("processes") {
        Some(ImportFormat::ProcessCompose)
    } else if has_top("services") {
        Some(ImportFormat::Compose)
    } else {
        None
    }
}

fn read(path: &Path) -> Result<String, ImportError> {
    let err = |source| ImportError::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(err)?;
    if !meta.is_file() {
        return Err(err(std::io::Error::other("not a regular file")));
    }
    if meta.len() > MAX_SOURCE_BYTES {
        return Err(err(std::io::Error::other(format!(
            "larger than {} bytes",
            MAX_SOURCE_BYTES
        ))));
    }
    let bytes = std::fs::read(path).map_err(err)?;
    String::from_utf8(bytes).map_err(|_| err(std::io::Error::other("not UTF-8 text")))
}

fn parse_yaml(path: &Path, text: &str) -> Result<yaml::Node, ImportError> {
    yaml::parse(text).map_err(|e| {
        ImportError::Yaml(Box::new(YamlReport {
            path: path.to_path_buf(),
            message: e.message,
            src: NamedSource::new(path.display().to_string(), text.to_owned()),
            span: SourceSpan::from((e.offset.min(text.len()), 0)),
        }))
    })
}

/// Translate `text` (read from `file`) for a manifest at `manifest`.
pub fn translate(
    file: &Path,
    text: &str,
    format: ImportFormat,
    manifest: &Path,
    base_port: u16,
) -> Result<Draft, ImportError> {
    let source_dir = file.parent().unwrap_or(Path::new("/"));
    let manifest_dir = manifest.parent().unwrap_or(Path::new("/"));
    let rebase = Rebase::new(source_dir, manifest_dir);
    let shown = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir_name = manifest_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let hint = unit_name(&dir_name).unwrap_or_else(|| "project".into());
    let mut d = match format {
        ImportFormat::Procfile => procfile::import(text, &shown, base_port, &rebase),
        ImportFormat::Compose => compose::import(&parse_yaml(file, text)?, &hint, &rebase),
        ImportFormat::ProcessCompose => process_compose::import(&parse_yaml(file, text)?, &rebase),
    };
    // In file order, whatever order the translator found them in.
    d.warnings.sort_by_key(|w| w.line);
    if d.project.is_none() && unit_name(&dir_name).as_deref() != Some(dir_name.as_str()) {
        d.project = Some(hint);
    }
    Ok(d)
}

/// Write `text` to `path` atomically (temp file, fsync, rename).
fn write_atomically(path: &Path, text: &str) -> Result<(), ImportError> {
    let err = |source| ImportError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.import-{}", std::process::id()));
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(e));
    }
    Ok(())
}

/// `devctl import`.
pub fn import(ctx: &Context, args: &ImportArgs<'_>, out: &mut Out) -> Result<Exit, CtlError> {
    let file = ctx.cwd.join(args.file);
    let to_stdout = args.output == Path::new("-");
    let manifest: PathBuf = if to_stdout {
        ctx.cwd.join("devctl.kdl")
    } else {
        std::path::absolute(ctx.cwd.join(args.output)).unwrap_or_else(|_| ctx.cwd.join(args.output))
    };
    let text = read(&file)?;
    let format = args
        .format
        .or_else(|| detect(&file, &text))
        .ok_or_else(|| ImportError::UnknownFormat { path: file.clone() })?;
    if !to_stdout && !args.force && manifest.exists() {
        return Err(ImportError::Exists { path: manifest }.into());
    }
    let draft = translate(&file, &text, format, &manifest, args.base_port)?;
    if !ctx.quiet {
        for w in &draft.warnings {
            let unit = w
                .unit
                .as_deref()
                .map(|u| format!("{u}: "))
                .unwrap_or_default();
            eprintln!(
                "warning: {}:{}: {unit}{}",
                args.file.display(),
                w.line,
                w.message
            );
        }
    }
    if draft.units.is_empty() {
        let what = match format {
            ImportFormat::Procfile => "process types",
            ImportFormat::Compose => "services",
            ImportFormat::ProcessCompose => "processes",
        };
        return Err(ImportError::Empty { path: file, what }.into());
    }
    let text = write::manifest(&draft, &args.file.display().to_string());
    if let Err(e) = devctl_compiler::compile_str(&text, &manifest) {
        return Err(ImportError::Generated {
            path: file,
            report: render_report(&e, false),
        }
        .into());
    }
    if to_stdout {
        out.raw(&text)?;
        return Ok(Exit::Ok);
    }
    write_atomically(&manifest, &text)?;
    if ctx.json {
        let units: Vec<_> = draft
            .units
            .iter()
            .map(|u| serde_json::json!({"name": u.name, "kind": u.kind.node(), "from": u.origin}))
            .collect();
        out.json(&serde_json::json!({
            "output": manifest,
            "source": file,
            "format": format.name(),
            "units": units,
            "groups": draft.groups.iter().map(|g| &g.name).collect::<Vec<_>>(),
            "warnings": draft.warnings,
        }))?;
    } else if !ctx.quiet {
        out.line(&format!(
            "wrote {} ({} units{}) from {}{}",
            manifest.display(),
            draft.units.len(),
            match draft.groups.len() {
                0 => String::new(),
                n => format!(", {n} groups"),
            },
            args.file.display(),
            match draft.warnings.len() {
                0 => String::new(),
                n => format!("; {n} warnings, also noted in the file"),
            }
        ))?;
    }
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_name_then_content() {
        let p = |s: &str| PathBuf::from(s);
        assert_eq!(detect(&p("/x/Procfile"), ""), Some(ImportFormat::Procfile));
        assert_eq!(
            detect(&p("/x/Procfile.dev"), ""),
            Some(ImportFormat::Procfile)
        );
        assert_eq!(
            detect(&p("/x/compose.yaml"), ""),
            Some(ImportFormat::Compose)
        );
        assert_eq!(
            detect(&p("/x/docker-compose.override.yml"), ""),
            Some(ImportFormat::Compose)
        );
        assert_eq!(
            detect(&p("/x/process-compose.yml"), ""),
            Some(ImportFormat::ProcessCompose)
        );
        assert_eq!(
            detect(&p("/x/stack.yml"), "version: 3\nservices:\n"),
            Some(ImportFormat::Compose)
        );
        assert_eq!(
            detect(&p("/x/pc.yml"), "processes :\n"),
            Some(ImportFormat::ProcessCompose)
        );
        assert_eq!(detect(&p("/x/notes.txt"), "hello"), None);
    }
}
