//! `devctl dashboard`: make sure devctld runs (and knows this directory's
//! project, when there is one), ask it to turn the web dashboard on
//! (`POST /v1/dashboard`), print the one-time login link and open a
//! browser when there is a display.

use std::process::{Command, Stdio};

use devctl_units::api::DashboardInfo;
use devctl_units::paths::Paths;

use crate::daemon;
use crate::error::CtlError;
use crate::exit::Exit;
use crate::opts::Context;
use crate::output::Out;
use crate::session::{self, Access};

/// Whether a browser can be shown: a graphical session is named.
pub fn has_display(get: impl Fn(&str) -> Option<std::ffi::OsString>) -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|k| get(k).is_some_and(|v| !v.is_empty()))
}

/// `devctl dashboard [--no-open]`.
pub async fn open(ctx: &Context, no_open: bool, out: &mut Out) -> Result<Exit, CtlError> {
    // With a manifest here, the daemon learns the project (as `status`
    // would); without one, the dashboard still shows every known project.
    let client = match ctx.manifest_path() {
        Ok(_) => session::open(ctx, Access::ReadOnly).await?.client,
        Err(CtlError::NoManifest { .. }) => daemon::connect(&Paths::from_env()?, ctx.quiet).await?,
        Err(e) => return Err(e),
    };
    let info: DashboardInfo = client.post("/v1/dashboard", &serde_json::json!({})).await?;
    let opened = !no_open && has_display(|k| std::env::var_os(k)) && open_browser(&info.login_url);
    if ctx.json {
        let mut v = serde_json::to_value(&info).map_err(|e| CtlError::Protocol {
            message: e.to_string(),
        })?;
        v["opened"] = serde_json::json!(opened);
        out.json(&v)?;
        return Ok(Exit::Ok);
    }
    out.line(&info.login_url)?;
    if !ctx.quiet {
        eprintln!(
            "devctl: the link works once; run `devctl dashboard` again for another (the page stays at {})",
            info.url
        );
    }
    Ok(Exit::Ok)
}

/// Start `xdg-open URL` in the background; false when it cannot start.
fn open_browser(url: &str) -> bool {
    match Command::new("xdg-open")
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(_child) => true,
        Err(e) => {
            eprintln!("devctl: cannot start a browser (xdg-open: {e}); open the link yourself");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    #[test]
    fn a_display_is_x11_or_wayland() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        assert!(!has_display(env(&[])));
        assert!(!has_display(env(&[("DISPLAY", "")])));
        assert!(has_display(env(&[("DISPLAY", ":0")])));
        assert!(has_display(env(&[("WAYLAND_DISPLAY", "wayland-0")])));
    }
}
