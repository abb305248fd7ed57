//! The keys of the provider sections: `[Container]` and `[Kube]`.

use std::path::PathBuf;

use super::Reader;
use crate::convert::keys::{CONTAINER_KEYS, KUBE_KEYS};
use crate::convert::values;
use crate::error::UnitFileError;
use crate::escape::Context;
use crate::file::Entry;
use crate::model::{ContainerSpec, KubeReadiness};

impl<'a> Reader<'a> {
    pub(super) fn container_key(&mut self, e: &'a Entry) -> Result<(), UnitFileError> {
        let key = e.key.as_str();
        match key {
            "Environment" | "EnvironmentFile" => return self.env_key(e),
            "PublishPort" => {
                let value = self.single(e)?;
                let p = values::parse_publish(&value).map_err(|err| self.value_error(e, err))?;
                self.container().publish.push(p);
                return Ok(());
            }
            "Volume" => {
                let value = self.single(e)?;
                let v = values::parse_volume(&value).map_err(|err| self.value_error(e, err))?;
                self.container().volumes.push(v);
                return Ok(());
            }
            _ if !CONTAINER_KEYS.contains(&key) => {
                return Err(self.unknown_key("Container", e, CONTAINER_KEYS));
            }
            _ => self.once("Container", e)?,
        }
        match key {
            "Image" => {
                let image = self.single(e)?;
                self.image = true;
                self.container().image = image;
            }
            "X-Devctl-Build-Context" => self.build_context = Some((e, self.path(e)?)),
            "X-Devctl-Build-Dockerfile" => self.build_dockerfile = Some((e, self.single(e)?)),
            "Exec" => {
                let argv = self.words(e, Context::Command)?;
                self.container().command = Some(argv);
            }
            "Entrypoint" => {
                let argv = self.words(e, Context::Command)?;
                self.container().entrypoint = Some(argv);
            }
            "WorkingDir" => {
                let v = self.single(e)?;
                self.container().workdir = Some(v);
            }
            "User" => {
                let v = self.single(e)?;
                self.container().user = Some(v);
            }
            "Network" => {
                let v = self.single(e)?;
                self.container().network = Some(v);
            }
            _ => {
                let b = self.boolean(e)?;
                self.container().healthcheck = b;
            }
        }
        Ok(())
    }

    pub(super) fn container(&mut self) -> &mut ContainerSpec {
        self.unit.container.get_or_insert_default()
    }

    pub(super) fn kube_key(&mut self, e: &'a Entry) -> Result<(), UnitFileError> {
        let key = e.key.as_str();
        if matches!(
            key,
            "X-Devctl-Context"
                | "X-Devctl-Namespace"
                | "X-Devctl-Kubeconfig"
                | "X-Devctl-Readiness"
        ) {
            self.once("Kube", e)?;
        }
        let value = match key {
            "Yaml"
            | "X-Devctl-Context"
            | "X-Devctl-Namespace"
            | "X-Devctl-Kubeconfig"
            | "X-Devctl-Readiness" => Some(self.single(e)?),
            _ => None,
        };
        let forward = match key {
            "X-Devctl-Port-Forward" => {
                Some(values::parse_forward(&e.value).map_err(|err| self.value_error(e, err))?)
            }
            _ => None,
        };
        let image = match key {
            "X-Devctl-Image" => {
                Some(values::parse_kube_image(&e.value).map_err(|err| self.value_error(e, err))?)
            }
            _ => None,
        };
        let readiness = match (key, value.as_deref()) {
            ("X-Devctl-Readiness", Some(v)) => Some(
                KubeReadiness::parse(v).ok_or_else(|| self.bad(e, "`auto`, `pods` or `none`"))?,
            ),
            _ => None,
        };
        let Some(k) = self.unit.kubernetes.as_mut() else {
            return Err(self.unknown_key("Kube", e, KUBE_KEYS));
        };
        match key {
            "Yaml" => k.manifests.extend(value.map(PathBuf::from)),
            "X-Devctl-Context" => k.context = value,
            "X-Devctl-Namespace" => k.namespace = value,
            "X-Devctl-Port-Forward" => k.port_forwards.extend(forward),
            "X-Devctl-Kubeconfig" => k.kubeconfig = value.map(PathBuf::from),
            "X-Devctl-Readiness" => k.readiness = readiness.unwrap_or_default(),
            "X-Devctl-Image" => k.images.extend(image),
            _ => return Err(self.unknown_key("Kube", e, KUBE_KEYS)),
        }
        Ok(())
    }
}
