//! The images a `kubernetes` unit builds (`image "NAME" build="DIR"`):
//! each is built with the Docker engine (the Docker provider's build code:
//! the context as a tar archive, output into the unit's log), then tagged
//! by its content, `NAME:` + the first 12 hex digits of the image ID, so
//! the same sources give the same reference and a change gives a new one
//! (never `latest`): the manifests' references to NAME are rewritten to
//! it, and a rebuild that changed something rolls the workloads.

use std::collections::BTreeMap;

use bollard::query_parameters::{RemoveImageOptionsBuilder, TagImageOptionsBuilder};

use devctl_units::KubeImage;

use crate::logs::UnitLog;
use crate::providers::docker::build::build_image;
use crate::providers::docker::engine::{self, Engine};
use crate::providers::kubernetes::error::KubeError;

/// The tag a build gets before its content tag is known.
const BUILD_TAG: &str = "devctl-build";

/// The content tag of an image ID (`sha256:0123…` → `0123…`, 12 digits).
pub fn content_tag(id: &str) -> String {
    let hex = id.rsplit(':').next().unwrap_or(id);
    hex.chars().take(12).collect()
}

/// Build every image; the reference each NAME is rewritten to.
pub async fn build_all(
    images: &[KubeImage],
    log: &UnitLog,
) -> Result<BTreeMap<String, String>, KubeError> {
    let mut out = BTreeMap::new();
    if images.is_empty() {
        return Ok(out);
    }
    let host = engine::host_from_env();
    let engine = Engine::connect(&host).await.map_err(|e| KubeError::Image {
        image: images[0].name.clone(),
        message: e.user_message(),
    })?;
    for i in images {
        let err = |message: String| KubeError::Image {
            image: i.name.clone(),
            message,
        };
        let scratch = format!("{}:{BUILD_TAG}", i.name);
        build_image(&engine, &i.build, &scratch, log)
            .await
            .map_err(|e| err(e.user_message()))?;
        let id = engine
            .docker()
            .inspect_image(&scratch)
            .await
            .map_err(|e| err(e.to_string()))?
            .id
            .ok_or_else(|| err("the engine reported no image ID".into()))?;
        let tag = content_tag(&id);
        let opts = TagImageOptionsBuilder::default()
            .repo(&i.name)
            .tag(&tag)
            .build();
        engine
            .docker()
            .tag_image(&scratch, Some(opts))
            .await
            .map_err(|e| err(e.to_string()))?;
        // The scratch tag goes; the content tag keeps the image.
        let untag = RemoveImageOptionsBuilder::default().noprune(true).build();
        if let Err(e) = engine
            .docker()
            .remove_image(&scratch, Some(untag), None)
            .await
        {
            log.marker(format!("cannot remove the tag {scratch}: {e}"));
        }
        let reference = format!("{}:{tag}", i.name);
        log.marker(format!("image {} is {reference}", i.name));
        out.insert(i.name.clone(), reference);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_tags_come_from_the_image_id() {
        assert_eq!(
            content_tag("sha256:0123456789abcdef0123456789abcdef"),
            "0123456789ab"
        );
        assert_eq!(content_tag("abcdef"), "abcdef");
    }
}
