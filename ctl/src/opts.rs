//! Phase two of argument handling: the parsed [`Cli`] becomes a resolved
//! [`Context`] (working directory after `-C`, manifest path after `-f` or
//! discovery, project override, output mode, blocking), and unit arguments
//! become `(project, pattern)` pairs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use devctl_units::ProjectName;

use crate::cli::Cli;
use crate::error::CtlError;
use crate::output;

/// The file name searched for upwards from the working directory.
pub const MANIFEST_NAME: &str = "devctl.kdl";

/// Everything a verb needs to know besides its own arguments.
#[derive(Debug, Clone)]
pub struct Context {
    /// The working directory (after `-C`).
    pub cwd: PathBuf,
    /// `-f FILE`, made absolute.
    pub file: Option<PathBuf>,
    /// `-p PROJECT`.
    pub project: Option<ProjectName>,
    pub json: bool,
    pub quiet: bool,
    /// Wait for jobs to finish (not `--no-block`).
    pub block: bool,
    pub timeout: Option<Duration>,
    pub color_out: bool,
    pub color_err: bool,
}

impl Context {
    /// Resolve the global options against the process's working directory.
    pub fn from_cli(cli: &Cli, process_cwd: &Path) -> Result<Context, CtlError> {
        let cwd = match &cli.directory {
            None => process_cwd.to_path_buf(),
            Some(dir) => {
                let dir = process_cwd.join(dir);
                if !dir.is_dir() {
                    return Err(CtlError::Usage {
                        message: format!("-C {}: not a directory", dir.display()),
                    });
                }
                dir
            }
        };
        let project = match &cli.global.project {
            None => None,
            Some(p) => Some(
                ProjectName::new(p.as_str()).map_err(|reason| CtlError::BadName {
                    name: p.clone(),
                    what: "project",
                    reason,
                })?,
            ),
        };
        Ok(Context {
            file: cli.file.as_ref().map(|f| cwd.join(f)),
            cwd,
            project,
            json: cli.global.json,
            quiet: cli.global.quiet,
            block: !cli.global.no_block,
            timeout: cli.global.timeout,
            color_out: !cli.global.json && output::stdout_color(),
            color_err: output::stderr_color(),
        })
    }

    /// The manifest: `-f`, else the nearest `devctl.kdl` upwards.
    pub fn manifest_path(&self) -> Result<PathBuf, CtlError> {
        match &self.file {
            Some(f) => Ok(f.clone()),
            None => discover(&self.cwd).ok_or_else(|| CtlError::NoManifest {
                start: self.cwd.clone(),
            }),
        }
    }

    /// The timeout in milliseconds for API requests.
    pub fn timeout_ms(&self) -> Option<u64> {
        self.timeout
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

/// The nearest `devctl.kdl` in `start` or one of its parents.
pub fn discover(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(MANIFEST_NAME))
        .find(|candidate| candidate.is_file())
}

/// A unit argument: `NAME`, `PROJECT/NAME` or a glob, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitArg {
    pub project: Option<ProjectName>,
    pub pattern: String,
}

/// Split `PROJECT/NAME`; the name part may be a glob (checked by the daemon).
pub fn parse_unit_arg(arg: &str) -> Result<UnitArg, CtlError> {
    let usage = |message: String| CtlError::Usage { message };
    match arg.split_once('/') {
        None if arg.is_empty() => Err(usage("empty unit name".into())),
        None => Ok(UnitArg {
            project: None,
            pattern: arg.to_string(),
        }),
        Some((_, rest)) if rest.contains('/') => {
            Err(usage(format!("{arg:?}: use NAME or PROJECT/NAME")))
        }
        Some((_, "")) => Err(usage(format!("{arg:?}: missing the unit name after '/'"))),
        Some((project, name)) => {
            let project = ProjectName::new(project).map_err(|reason| CtlError::BadName {
                name: project.to_string(),
                what: "project",
                reason,
            })?;
            Ok(UnitArg {
                project: Some(project),
                pattern: name.to_string(),
            })
        }
    }
}

/// Unit patterns of one project; `None` is the context's project.
pub type ProjectGroup = (Option<ProjectName>, Vec<String>);

/// Group unit arguments by project, keeping order.
pub fn group_by_project(args: &[String]) -> Result<Vec<ProjectGroup>, CtlError> {
    let mut groups: Vec<ProjectGroup> = Vec::new();
    for arg in args {
        let UnitArg { project, pattern } = parse_unit_arg(arg)?;
        match groups.iter_mut().find(|(p, _)| *p == project) {
            Some((_, names)) => names.push(pattern),
            None => groups.push((project, vec![pattern])),
        }
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn ctx(args: &[&str], cwd: &Path) -> Result<Context, CtlError> {
        let mut argv = vec!["devctl"];
        argv.extend_from_slice(args);
        Context::from_cli(&Cli::try_parse_from(argv).unwrap(), cwd)
    }

    #[test]
    fn discovery_walks_up() {
        let tmp = tempfile::tempdir().unwrap();
        let deep = tmp.path().join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(discover(&deep), None);
        std::fs::write(tmp.path().join("a/devctl.kdl"), "").unwrap();
        assert_eq!(discover(&deep), Some(tmp.path().join("a/devctl.kdl")));
        std::fs::write(tmp.path().join("a/b/devctl.kdl"), "").unwrap();
        assert_eq!(discover(&deep), Some(tmp.path().join("a/b/devctl.kdl")));
    }

    #[test]
    fn a_directory_named_like_the_manifest_is_skipped() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("x/devctl.kdl")).unwrap();
        assert_eq!(discover(&tmp.path().join("x")), None);
    }

    #[test]
    fn dash_c_and_dash_f() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("sub")).unwrap();
        let c = ctx(&["-C", "sub", "-f", "m.kdl", "check"], tmp.path()).unwrap();
        assert_eq!(c.cwd, tmp.path().join("sub"));
        assert_eq!(c.manifest_path().unwrap(), tmp.path().join("sub/m.kdl"));
        let err = ctx(&["-C", "missing", "check"], tmp.path()).unwrap_err();
        assert!(matches!(err, CtlError::Usage { .. }), "{err:?}");
        let none = ctx(&["check"], tmp.path()).unwrap();
        assert!(matches!(
            none.manifest_path(),
            Err(CtlError::NoManifest { .. })
        ));
    }

    #[test]
    fn project_flag_is_validated() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(matches!(
            ctx(&["-p", "../x", "status"], tmp.path()),
            Err(CtlError::BadName { .. })
        ));
        let c = ctx(
            &[
                "-p",
                "pz",
                "status",
                "--json",
                "--no-block",
                "--timeout",
                "3s",
            ],
            tmp.path(),
        )
        .unwrap();
        assert_eq!(c.project.as_ref().unwrap().as_str(), "pz");
        assert!(c.json && !c.block && !c.color_out);
        assert_eq!(c.timeout_ms(), Some(3000));
    }

    #[test]
    fn unit_args() {
        assert_eq!(
            parse_unit_arg("web").unwrap(),
            UnitArg {
                project: None,
                pattern: "web".into()
            }
        );
        let a = parse_unit_arg("pz/api-*").unwrap();
        assert_eq!(
            (a.project.unwrap().as_str(), a.pattern.as_str()),
            ("pz", "api-*")
        );
        for bad in ["", "a/b/c", "pz/", "../x/y"] {
            assert!(parse_unit_arg(bad).is_err(), "{bad}");
        }
        let groups = group_by_project(&["a".into(), "p/b".into(), "c".into()]).unwrap();
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].1, ["a", "c"]);
        assert_eq!(groups[1].1, ["b"]);
    }
}
