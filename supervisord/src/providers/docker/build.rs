//! Image builds: the context directory is packed into a tar archive (the
//! engine's build API takes nothing else), sent with the Dockerfile path
//! and the unit's image name as tag, and every line of build output goes
//! into the unit's log. An error line from the engine fails the build.

use std::path::Path;

use bollard::query_parameters::BuildImageOptionsBuilder;
use futures_util::StreamExt;

use devctl_units::ImageBuild;

use crate::logs::{Stream, UnitLog};
use crate::providers::docker::engine::Engine;
use crate::providers::docker::error::DockerError;

/// Pack `dir` (recursively, symlinks kept as links) into a tar archive.
pub fn tar_context(dir: &Path) -> Result<Vec<u8>, DockerError> {
    let err = |source| DockerError::BuildContext {
        path: dir.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(dir).map_err(err)?;
    if !meta.is_dir() {
        return Err(err(std::io::Error::from(std::io::ErrorKind::NotADirectory)));
    }
    let mut b = tar::Builder::new(Vec::new());
    b.follow_symlinks(false);
    b.mode(tar::HeaderMode::Deterministic);
    b.append_dir_all(".", dir).map_err(err)?;
    b.into_inner().map_err(err)
}

/// Write build output (which may hold several lines) into the log.
fn log_output(log: &UnitLog, text: &str) {
    for line in text.lines() {
        let line = line.trim_end();
        if !line.is_empty() {
            log.write(Stream::Stdout, line);
        }
    }
}

/// Build `build` into the image `tag`, logging the output.
pub async fn build_image(
    engine: &Engine,
    build: &ImageBuild,
    tag: &str,
    log: &UnitLog,
) -> Result<(), DockerError> {
    log.marker(format!(
        "building image {tag} from {} ({})",
        build.context.display(),
        build.dockerfile
    ));
    let ctx = build.context.clone();
    let archive = tokio::task::spawn_blocking(move || tar_context(&ctx))
        .await
        .map_err(|e| DockerError::BuildContext {
            path: build.context.clone(),
            source: std::io::Error::other(e),
        })??;
    let opts = BuildImageOptionsBuilder::default()
        .dockerfile(&build.dockerfile)
        .t(tag)
        .rm(true)
        .forcerm(true)
        .build();
    let mut stream =
        engine
            .docker()
            .build_image(opts, None, Some(bollard::body_full(archive.into())));
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(s) = info.stream.as_deref() {
                    log_output(log, s);
                }
                if let Some(s) = info.status.as_deref() {
                    log_output(log, s);
                }
            }
            Err(bollard::errors::Error::DockerStreamError { error }) => {
                log_output(log, &error);
                return Err(DockerError::BuildFailed {
                    image: tag.to_string(),
                    message: error.trim().to_string(),
                });
            }
            Err(e) => {
                let message = e.to_string();
                log.write(Stream::Stderr, message.as_str());
                return Err(DockerError::BuildFailed {
                    image: tag.to_string(),
                    message,
                });
            }
        }
    }
    log.marker(format!("built image {tag}"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_is_packed_and_errors_name_the_path() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::create_dir(tmp.path().join("sub")).unwrap();
        std::fs::write(tmp.path().join("sub/f"), "x").unwrap();
        let bytes = tar_context(tmp.path()).unwrap();
        let mut ar = tar::Archive::new(&bytes[..]);
        let names: Vec<String> = ar
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().any(|n| n.ends_with("Dockerfile")), "{names:?}");
        assert!(names.iter().any(|n| n.ends_with("sub/f")), "{names:?}");

        let missing = tmp.path().join("nope");
        match tar_context(&missing).unwrap_err() {
            DockerError::BuildContext { path, source } => {
                assert_eq!(path, missing);
                assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
            }
            e => panic!("{e:?}"),
        }
        match tar_context(&tmp.path().join("Dockerfile")).unwrap_err() {
            DockerError::BuildContext { source, .. } => {
                assert_eq!(source.kind(), std::io::ErrorKind::NotADirectory)
            }
            e => panic!("{e:?}"),
        }
    }
}
