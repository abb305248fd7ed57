//! Readers for the settings that run a build on its own: `schedule` (a
//! cron pattern), `every` (an interval), `on-commit` (the project
//! repository's HEAD moved) and `always-run` (no up-to-date check).

use std::path::Path;

use devctl_units::{Schedule, Unit};
use kdl::KdlNode;

use crate::reader::{self as r, Cx, args, check_shape, clip};

/// `schedule "*/15 * * * *"` or `every "10m"`; one of them per unit.
pub fn read_schedule(cx: &mut Cx, u: &mut Unit, n: &KdlNode) {
    if !check_shape(cx, n, 1, Some(1), &[], false) {
        return;
    }
    let e = args(n)[0];
    let name = n.name().value();
    if u.schedule.is_some() {
        cx.err_help(
            "devctl::manifest::duplicate-schedule",
            format!("`{}` gives `{}` a second schedule", name, u.name),
            n.name().span(),
            "second schedule",
            "keep one `schedule` or one `every` per unit",
        );
        return;
    }
    let parsed = if name == "every" {
        let Some(d) = r::duration(cx, e, "every", false) else {
            return;
        };
        Schedule::every(d)
    } else {
        let Some(text) = r::text(cx, e, "the cron pattern") else {
            return;
        };
        text.parse::<Schedule>()
    };
    match parsed {
        Ok(s) => u.schedule = Some(s),
        Err(err) => cx.err_help(
            "devctl::manifest::bad-schedule",
            clip(&err.to_string()),
            e.span(),
            "bad schedule",
            err.help(),
        ),
    }
}

/// `on-commit` / `always-run`, bare or with `#true`/`#false`.
pub fn read_flag(cx: &mut Cx, n: &KdlNode) -> Option<bool> {
    if !check_shape(cx, n, 0, Some(1), &[], false) {
        return None;
    }
    match args(n).first() {
        Some(e) => r::boolean(cx, e, n.name().value()),
        None => Some(true),
    }
}

/// `on-commit #true` needs a repository at or above the project root
/// (a `.git` directory, or a `.git` file in a worktree).
pub fn read_on_commit(cx: &mut Cx, u: &mut Unit, n: &KdlNode) {
    let Some(on) = read_flag(cx, n) else {
        return;
    };
    if on && !in_repository(&u.root) {
        cx.err_help(
            "devctl::manifest::not-a-repository",
            format!(
                "`on-commit` in `{}`, but {} is not in a git repository",
                u.name,
                u.root.display()
            ),
            n.name().span(),
            "no repository to follow",
            "run `git init` in the project, or remove `on-commit`",
        );
        return;
    }
    u.on_commit = on;
}

fn in_repository(root: &Path) -> bool {
    root.ancestors().any(|d| d.join(".git").exists())
}
