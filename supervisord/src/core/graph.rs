//! Pure helpers over a project's unit set: glob resolution against unit
//! names, group expansion, the start closure (requires + wants,
//! transitively) and the units that (transitively) require a unit.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use globset::Glob;

use devctl_units::{DepKind, Unit, UnitName};

/// Resolve names or globs; any pattern matching nothing is an error naming it.
pub fn resolve(
    patterns: &[String],
    units: &BTreeMap<UnitName, Arc<Unit>>,
) -> Result<Vec<UnitName>, String> {
    let mut out = BTreeSet::new();
    for p in patterns {
        let before = out.len();
        if p.contains(['*', '?', '[']) {
            let m = Glob::new(p)
                .map_err(|e| format!("bad pattern {p:?}: {e}"))?
                .compile_matcher();
            out.extend(units.keys().filter(|n| m.is_match(n.as_str())).cloned());
            if out.len() == before && !units.keys().any(|n| m.is_match(n.as_str())) {
                return Err(format!("no unit matches {p:?}"));
            }
        } else {
            match units.keys().find(|n| n.as_str() == p) {
                Some(n) => {
                    out.insert(n.clone());
                }
                None => return Err(format!("no unit named {p:?}")),
            }
        }
    }
    Ok(out.into_iter().collect())
}

/// Replace groups (and the project target) by their runnable members.
pub fn expand_groups(
    names: &[UnitName],
    units: &BTreeMap<UnitName, Arc<Unit>>,
) -> BTreeSet<UnitName> {
    let mut out = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut stack: Vec<UnitName> = names.to_vec();
    while let Some(n) = stack.pop() {
        if !seen.insert(n.clone()) {
            continue;
        }
        match units.get(&n) {
            Some(u) if u.kind.is_runnable() => {
                out.insert(n);
            }
            Some(u) => stack.extend(u.members.iter().cloned()),
            None => {}
        }
    }
    out
}

/// The roots plus everything they require or want, transitively.
pub fn start_closure(
    roots: &BTreeSet<UnitName>,
    units: &BTreeMap<UnitName, Arc<Unit>>,
) -> BTreeSet<UnitName> {
    let mut out = BTreeSet::new();
    let mut stack: Vec<UnitName> = expand_groups(&roots.iter().cloned().collect::<Vec<_>>(), units)
        .into_iter()
        .collect();
    while let Some(n) = stack.pop() {
        let Some(u) = units.get(&n) else { continue };
        if !out.insert(n) {
            continue;
        }
        let deps: Vec<UnitName> = u.deps.iter().map(|d| d.unit.clone()).collect();
        stack.extend(expand_groups(&deps, units));
    }
    out
}

/// Units that require any of `roots`, transitively (not the roots themselves).
pub fn requiring(
    roots: &BTreeSet<UnitName>,
    units: &BTreeMap<UnitName, Arc<Unit>>,
) -> BTreeSet<UnitName> {
    let mut out = BTreeSet::new();
    let mut frontier: Vec<UnitName> = roots.iter().cloned().collect();
    while let Some(x) = frontier.pop() {
        for (name, u) in units {
            if u.deps
                .iter()
                .any(|d| d.kind == DepKind::Requires && d.unit == x)
                && !roots.contains(name)
                && out.insert(name.clone())
            {
                frontier.push(name.clone());
            }
        }
    }
    out
}

/// Units with any dependency (requires or wants) on `x`.
pub fn dependents_of<'a>(
    x: &'a UnitName,
    units: &'a BTreeMap<UnitName, Arc<Unit>>,
) -> impl Iterator<Item = &'a UnitName> {
    units
        .iter()
        .filter(move |(_, u)| u.deps.iter().any(|d| &d.unit == x))
        .map(|(n, _)| n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use devctl_units::{DepCondition, Dependency, ProjectName, UnitKind};

    fn set(deps: &[(&str, &[(&str, DepKind)])]) -> BTreeMap<UnitName, Arc<Unit>> {
        let p = ProjectName::new("p").unwrap();
        deps.iter()
            .map(|(name, ds)| {
                let n = UnitName::new(*name).unwrap();
                let kind = if name.starts_with('g') {
                    UnitKind::Group
                } else {
                    UnitKind::Service
                };
                let mut u = Unit::new(p.clone(), n.clone(), kind, "/".into());
                if kind == UnitKind::Group {
                    u.members = ds.iter().map(|(d, _)| UnitName::new(*d).unwrap()).collect();
                } else {
                    u.deps = ds
                        .iter()
                        .map(|(d, k)| Dependency {
                            unit: UnitName::new(*d).unwrap(),
                            kind: *k,
                            until: DepCondition::Started,
                        })
                        .collect();
                }
                (n, Arc::new(u))
            })
            .collect()
    }

    fn names(s: &BTreeSet<UnitName>) -> Vec<&str> {
        s.iter().map(|n| n.as_str()).collect()
    }

    #[test]
    fn resolve_names_and_globs() {
        let u = set(&[("api-1", &[]), ("api-2", &[]), ("db", &[])]);
        let r = resolve(&["api-*".into(), "db".into()], &u).unwrap();
        assert_eq!(
            r.iter().map(|n| n.as_str()).collect::<Vec<_>>(),
            ["api-1", "api-2", "db"]
        );
        assert_eq!(
            resolve(&["web".into()], &u).unwrap_err(),
            "no unit named \"web\""
        );
        assert_eq!(
            resolve(&["x-*".into()], &u).unwrap_err(),
            "no unit matches \"x-*\""
        );
        assert!(resolve(&["[".into()], &u).is_err());
    }

    #[test]
    fn closures() {
        use DepKind::*;
        let u = set(&[
            ("web", &[("api", Requires), ("redis", Wants)]),
            ("api", &[("db", Requires)]),
            ("db", &[]),
            ("redis", &[]),
            ("other", &[]),
            ("gback", &[("api", Requires), ("other", Requires)]),
        ]);
        let roots: BTreeSet<_> = [UnitName::new("web").unwrap()].into();
        assert_eq!(
            names(&start_closure(&roots, &u)),
            ["api", "db", "redis", "web"]
        );
        let g: BTreeSet<_> = [UnitName::new("gback").unwrap()].into();
        assert_eq!(names(&start_closure(&g, &u)), ["api", "db", "other"]);
        let db: BTreeSet<_> = [UnitName::new("db").unwrap()].into();
        assert_eq!(names(&requiring(&db, &u)), ["api", "web"]);
        let redis: BTreeSet<_> = [UnitName::new("redis").unwrap()].into();
        assert!(requiring(&redis, &u).is_empty(), "wants is not requires");
        let db = UnitName::new("db").unwrap();
        assert_eq!(
            dependents_of(&db, &u)
                .map(|n| n.as_str())
                .collect::<Vec<_>>(),
            ["api"]
        );
    }
}
