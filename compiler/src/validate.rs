//! Phase 3: raw manifest → validated unit set. Cross-unit checks: the
//! project name, duplicate unit names, unknown dependencies and group
//! members, `until=` conditions that can never hold, and dependency cycles
//! (found iteratively, so a 10 000-unit chain is fine, and printed as a
//! path: `paulie → db → paulie`). Adds the project target.

use std::collections::HashMap;
use std::path::Path;

use devctl_units::{DepCondition, Dependency, ProjectName, RestartMode, Unit, UnitKind, UnitName};
use miette::SourceSpan;

use crate::error::Problem;
use crate::manifest::{RawManifest, RawUnit};
use crate::reader::{Cx, clip, name_help, suggest, warn};

/// At most this many cycles are reported.
const MAX_CYCLES: usize = 20;

/// Resolve the project name: `project "x"`, else the manifest directory's name.
pub fn project_name(cx: &mut Cx, raw: &RawManifest, root: &Path) -> Option<ProjectName> {
    if let Some((name, span)) = &raw.project {
        return match ProjectName::new(name.clone()) {
            Ok(p) => Some(p),
            Err(err) => {
                cx.err_help(
                    "devctl::manifest::bad-name",
                    format!(
                        "project name `{}` is invalid: {err}",
                        clip(name).escape_debug()
                    ),
                    *span,
                    "invalid name",
                    name_help(&err),
                );
                None
            }
        };
    }
    let dir = root
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match ProjectName::new(dir.clone()) {
        Ok(p) => Some(p),
        Err(err) => {
            cx.err_help(
                "devctl::manifest::no-project-name",
                format!(
                    "the directory name `{}` is not a valid project name ({err})",
                    clip(&dir).escape_debug()
                ),
                SourceSpan::new(0.into(), 0),
                "add `project \"name\"` here",
                "add a line `project \"name\"` at the top of the manifest",
            );
            None
        }
    }
}

/// Check the unit set and turn it into units; `None` when anything is wrong
/// (the problems are in `cx`).
pub fn validate(cx: &mut Cx, raw: RawManifest, project: Option<ProjectName>) -> Option<Vec<Unit>> {
    let units = raw.units;
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(units.len());
    for (i, ru) in units.iter().enumerate() {
        let name = ru.unit.name.as_str();
        if let Some(&first) = index.get(name) {
            let p = Problem::at(
                "devctl::manifest::duplicate-unit",
                format!("unit `{name}` is defined twice"),
                &cx.src,
                ru.name_span,
                "defined again here",
            )
            .with_label(units[first].name_span, "first defined here")
            .with_help("unit names are unique within a project; rename one of them");
            cx.problems.push(p);
        } else {
            index.insert(name, i);
        }
        if project.as_ref().is_some_and(|p| p.as_str() == name) {
            cx.err_help(
                "devctl::manifest::duplicate-unit",
                format!("unit `{name}` has the same name as the project"),
                ru.name_span,
                "same as the project",
                "the project target is named after the project; rename the unit or set `project \"other\"`",
            );
        }
    }
    let names: Vec<&str> = units.iter().map(|u| u.unit.name.as_str()).collect();
    // Edges for the cycle check: (target index, span of the reference).
    let mut edges: Vec<Vec<(usize, SourceSpan)>> = vec![Vec::new(); units.len()];
    let mut resolved: Vec<Vec<Dependency>> = vec![Vec::new(); units.len()];
    for (i, ru) in units.iter().enumerate() {
        for d in &ru.deps {
            let Some(&t) = index.get(d.name.as_str()) else {
                unknown_unit(cx, &d.name, d.span, &names, "dependency");
                continue;
            };
            let target = units[t].unit.kind;
            let until = match d.until {
                Some((DepCondition::Succeeded, span)) if target != UnitKind::Build => {
                    cx.err_help(
                        "devctl::manifest::bad-condition",
                        format!(
                            "`{}` is a {}; it never succeeds, it runs",
                            d.name,
                            target.as_str()
                        ),
                        span,
                        "never holds",
                        "use until=\"ready\" or until=\"started\"; only builds succeed",
                    );
                    continue;
                }
                Some((c, _)) => c,
                None if target == UnitKind::Build => DepCondition::Succeeded,
                None => DepCondition::Ready,
            };
            edges[i].push((t, d.span));
            resolved[i].push(Dependency {
                unit: d.name.clone(),
                kind: d.kind,
                until,
            });
        }
        for (m, span) in &ru.members {
            match index.get(m.as_str()) {
                Some(&t) => edges[i].push((t, *span)),
                None => unknown_unit(cx, m, *span, &names, "member"),
            }
        }
        if let (Some(span), Some(_)) = (ru.alive_span, &ru.unit.alive)
            && ru.unit.restart.mode == RestartMode::No
        {
            warn(
                cx,
                ru.unit.name.as_str(),
                "has a liveness probe but restart \"no\": a failing probe stops it for good",
                span,
            );
        }
    }
    find_cycles(cx, &units, &edges);
    let project = project?;
    if !cx.problems.is_empty() {
        return None;
    }
    let mut out: Vec<Unit> = Vec::with_capacity(units.len() + 1);
    for (ru, deps) in units.into_iter().zip(resolved) {
        let mut u = ru.unit;
        u.project = project.clone();
        u.deps = deps;
        u.members = ru.members.into_iter().map(|(m, _)| m).collect();
        out.push(u);
    }
    let pname = UnitName::new(project.as_str()).ok()?;
    let mut target = Unit::new(project.clone(), pname, UnitKind::Project, cx.root.clone());
    target.description = Some(format!("project {project}"));
    target.members = out.iter().map(|u| u.name.clone()).collect();
    out.push(target);
    Some(out)
}

fn unknown_unit(cx: &mut Cx, name: &UnitName, span: SourceSpan, names: &[&str], what: &str) {
    let help = suggest(name.as_str(), names.iter().copied())
        .unwrap_or_else(|| "declare it in this manifest, or remove the reference".to_owned());
    cx.err_help(
        "devctl::manifest::unknown-unit",
        format!("{what} `{name}` is not a unit of this project"),
        span,
        "no such unit",
        help,
    );
}

/// Iterative three-colour DFS; each back edge is one cycle, printed from
/// the unit it returns to.
fn find_cycles(cx: &mut Cx, units: &[RawUnit], edges: &[Vec<(usize, SourceSpan)>]) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark = vec![Mark::New; units.len()];
    let mut pos = vec![usize::MAX; units.len()];
    let mut found = 0usize;
    for start in 0..units.len() {
        if mark[start] != Mark::New {
            continue;
        }
        // (node, index of the next edge to follow)
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        mark[start] = Mark::Open;
        pos[start] = 0;
        while let Some(top) = stack.last_mut() {
            let (node, next) = *top;
            if next == edges[node].len() {
                mark[node] = Mark::Done;
                stack.pop();
                continue;
            }
            top.1 += 1;
            let (t, span) = edges[node][next];
            match mark[t] {
                Mark::New => {
                    mark[t] = Mark::Open;
                    pos[t] = stack.len();
                    stack.push((t, 0));
                }
                Mark::Open => {
                    found += 1;
                    if found <= MAX_CYCLES {
                        let path: Vec<&str> = stack[pos[t]..]
                            .iter()
                            .map(|(n, _)| units[*n].unit.name.as_str())
                            .chain([units[t].unit.name.as_str()])
                            .collect();
                        report_cycle(cx, &path, span);
                    }
                }
                Mark::Done => {}
            }
        }
    }
}

fn report_cycle(cx: &mut Cx, path: &[&str], span: SourceSpan) {
    let shown = if path.len() > 12 {
        let n = path.len();
        format!(
            "{} → … ({} more) … → {}",
            path[..5].join(" → "),
            n - 10,
            path[n - 5..].join(" → ")
        )
    } else {
        path.join(" → ")
    };
    let msg = if path.len() == 2 {
        format!("`{}` depends on itself: {shown}", path[0])
    } else {
        format!("dependency cycle: {shown}")
    };
    cx.err_help(
        "devctl::manifest::cycle",
        msg,
        span,
        "closes the cycle",
        "units cannot wait for each other in a circle; remove one of these dependencies",
    );
}
