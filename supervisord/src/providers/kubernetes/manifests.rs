//! A unit's manifests as the objects devctl applies: files and directories
//! (their `.yaml`, `.yml` and `.json` files, sorted) are read, multi-document
//! YAML and `kind: List` are split into objects, each object must have
//! apiVersion, kind and metadata.name; then references to the unit's built
//! images are rewritten, every object gets the labels that name its owner
//! (and pod templates those that let logs and `pods` readiness find the
//! pods), and a hash of the result is stored in an annotation so a later
//! start can tell an unchanged object from a changed one. Namespaces and
//! CustomResourceDefinitions come first: what lives in them is applied
//! after them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::providers::kubernetes::error::KubeError;

/// Names devctl's objects: `app.kubernetes.io/managed-by=devctl`.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// The project of the unit that applied an object.
pub const PROJECT: &str = "devctl.dev/project";
/// The unit that applied an object.
pub const UNIT: &str = "devctl.dev/unit";
/// The run (`DEVCTL_INVOCATION_ID`) that last applied an object.
pub const INVOCATION: &str = "devctl.dev/invocation";
/// The hash of the object as devctl last applied it.
pub const HASH: &str = "devctl.dev/applied-hash";

/// One object of a unit, ready to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    /// The namespace the manifest names, if any.
    pub namespace: Option<String>,
    /// Where it was written: `path` or `path` + document number.
    pub source: String,
    /// The object as it is applied (labels, hash annotation, images).
    pub body: Value,
    /// [`HASH`]'s value.
    pub hash: String,
}

impl Object {
    /// `Kind name` (or `Kind namespace/name`) for messages.
    pub fn describe(&self, namespace: Option<&str>) -> String {
        match namespace {
            Some(ns) => format!("{} {ns}/{} (from {})", self.kind, self.name, self.source),
            None => format!("{} {} (from {})", self.kind, self.name, self.source),
        }
    }

    /// The API group (`""` for the core group).
    pub fn group(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map(|(g, _)| g)
            .unwrap_or("")
    }

    /// The API version without its group.
    pub fn version(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map(|(_, v)| v)
            .unwrap_or(&self.api_version)
    }

    /// Apply order: namespaces, then CRDs, then the rest as written.
    fn rank(&self) -> u8 {
        match (self.group(), self.kind.as_str()) {
            ("", "Namespace") => 0,
            ("apiextensions.k8s.io", "CustomResourceDefinition") => 1,
            _ => 2,
        }
    }
}

/// Who applies the objects: the labels every one of them carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub project: String,
    pub unit: String,
    pub invocation: String,
}

impl Owner {
    /// The label selector matching every object of this unit.
    pub fn selector(&self) -> String {
        format!(
            "{MANAGED_BY}=devctl,{PROJECT}={},{UNIT}={}",
            self.project, self.unit
        )
    }

    /// The labels that stay the same from run to run.
    fn stable_labels(&self) -> [(&'static str, &str); 3] {
        [
            (MANAGED_BY, "devctl"),
            (PROJECT, &self.project),
            (UNIT, &self.unit),
        ]
    }
}

/// The files a manifest path stands for: itself, or a directory's
/// `.yaml`/`.yml`/`.json` files in name order.
pub fn files(path: &Path) -> Result<Vec<PathBuf>, KubeError> {
    let err = |message: String| KubeError::Manifest {
        path: path.to_path_buf(),
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(format!("cannot read it: {e}")))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| err(format!("cannot list the directory: {e}")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        })
        .collect();
    out.sort();
    if out.is_empty() {
        return Err(err(
            "the directory holds no .yaml, .yml or .json file".into()
        ));
    }
    Ok(out)
}

/// The documents of one file, empty ones dropped, `kind: List` expanded;
/// each with its source (`path`, or `path (document N)`).
pub fn documents(path: &Path, text: &str) -> Result<Vec<(String, Value)>, KubeError> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).map_err(|e| KubeError::Manifest {
        path: path.to_path_buf(),
        message: format!(
            "not valid YAML: {}",
            e.to_string().lines().next().unwrap_or("parse error")
        ),
    })?;
    let many = docs.len() > 1;
    let mut out = Vec::new();
    for (i, doc) in docs.into_iter().enumerate() {
        let source = if many {
            format!("{} (document {})", path.display(), i + 1)
        } else {
            path.display().to_string()
        };
        match doc {
            Value::Null => {}
            Value::Object(ref m) if m.get("kind").and_then(Value::as_str) == Some("List") => {
                let items = m.get("items").and_then(Value::as_array).cloned();
                for (j, item) in items.unwrap_or_default().into_iter().enumerate() {
                    out.push((format!("{source} item {}", j + 1), item));
                }
            }
            d => out.push((source, d)),
        }
    }
    Ok(out)
}

/// Read every object of `paths`, checked to have apiVersion, kind and
/// metadata.name, in apply order.
pub fn load(paths: &[PathBuf]) -> Result<Vec<(String, Value)>, KubeError> {
    let mut out = Vec::new();
    for p in paths {
        for file in files(p)? {
            let text = std::fs::read_to_string(&file).map_err(|e| KubeError::Manifest {
                path: file.clone(),
                message: format!("cannot read it: {e}"),
            })?;
            for (source, doc) in documents(&file, &text)? {
                check(&file, &source, &doc)?;
                out.push((source, doc));
            }
        }
    }
    Ok(out)
}

fn check(file: &Path, source: &str, doc: &Value) -> Result<(), KubeError> {
    let err = |message: String| KubeError::Manifest {
        path: file.to_path_buf(),
        message,
    };
    let Some(obj) = doc.as_object() else {
        return Err(err(format!("{source} is not a mapping")));
    };
    for field in ["apiVersion", "kind"] {
        if obj
            .get(field)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(err(format!("{source} has no `{field}`")));
        }
    }
    let name = obj
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str);
    if name.is_none_or(str::is_empty) {
        return Err(err(format!("{source} has no `metadata.name`")));
    }
    Ok(())
}

/// The repository of an image reference (`example/web` of
/// `example/web:1`, of `example/web@sha256:…` and of itself).
pub fn repository(reference: &str) -> &str {
    let no_digest = reference.split('@').next().unwrap_or(reference);
    match no_digest.rsplit_once(':') {
        // A colon after the last slash is a tag; before it, a registry port.
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => no_digest,
    }
}

/// Point every `image` field whose repository is a key of `images` at
/// its value (a built, content-tagged reference), anywhere in the object:
/// pod specs of any workload, CronJobs' job templates, custom resources.
pub fn rewrite_images(v: &mut Value, images: &BTreeMap<String, String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                if k == "image"
                    && let Value::String(s) = child
                    && let Some(built) = images.get(repository(s))
                {
                    *s = built.clone();
                    continue;
                }
                rewrite_images(child, images);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| rewrite_images(c, images)),
        _ => {}
    }
}

fn labels_of(meta: &mut Value) -> &mut Map<String, Value> {
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    let m = meta.as_object_mut().expect("made an object");
    let labels = m
        .entry("labels")
        .or_insert_with(|| Value::Object(Map::new()));
    if !labels.is_object() {
        *labels = Value::Object(Map::new());
    }
    labels.as_object_mut().expect("made an object")
}

fn set_labels(meta: &mut Value, labels: &[(&str, &str)]) {
    let l = labels_of(meta);
    for (k, v) in labels {
        l.insert((*k).to_owned(), Value::String((*v).to_owned()));
    }
}

/// The pod templates of a workload (Deployment, ReplicaSet, StatefulSet,
/// DaemonSet, Job: `spec.template`; CronJob: its job template's).
fn pod_template_meta<'a>(kind: &str, body: &'a mut Value) -> Option<&'a mut Value> {
    let spec = body.get_mut("spec")?;
    let tpl = match kind {
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Job" => {
            spec.get_mut("template")?
        }
        "CronJob" => spec
            .get_mut("jobTemplate")?
            .get_mut("spec")?
            .get_mut("template")?,
        _ => return None,
    };
    let m = tpl.as_object_mut()?;
    Some(
        m.entry("metadata")
            .or_insert_with(|| Value::Object(Map::new())),
    )
}

/// Hex SHA-256 of the object's canonical JSON (keys sorted), shortened.
fn hash(body: &Value) -> String {
    let bytes = serde_json::to_vec(body).expect("a JSON value serializes");
    let digest = Sha256::digest(&bytes);
    digest[..12].iter().map(|b| format!("{b:02x}")).collect()
}

/// Turn loaded documents into the objects to apply, in apply order.
pub fn prepare(
    docs: Vec<(String, Value)>,
    owner: &Owner,
    images: &BTreeMap<String, String>,
) -> Vec<Object> {
    let mut out: Vec<Object> = docs
        .into_iter()
        .map(|(source, mut body)| {
            rewrite_images(&mut body, images);
            let kind = body["kind"].as_str().unwrap_or_default().to_owned();
            let api_version = body["apiVersion"].as_str().unwrap_or_default().to_owned();
            let stable = owner.stable_labels();
            if let Some(meta) = body.as_object_mut().and_then(|m| m.get_mut("metadata")) {
                set_labels(meta, &stable);
                if let Some(m) = meta.as_object_mut() {
                    // Not part of what the hash compares.
                    m.remove("resourceVersion");
                    if let Some(Value::Object(a)) = m.get_mut("annotations") {
                        a.remove(HASH);
                    }
                }
            }
            if let Some(tpl) = pod_template_meta(&kind, &mut body) {
                set_labels(tpl, &stable);
            }
            let h = hash(&body);
            let meta = body
                .get_mut("metadata")
                .expect("checked: metadata.name exists");
            set_labels(meta, &[(INVOCATION, &owner.invocation)]);
            let m = meta.as_object_mut().expect("labels_of made it an object");
            let ann = m
                .entry("annotations")
                .or_insert_with(|| Value::Object(Map::new()));
            if !ann.is_object() {
                *ann = Value::Object(Map::new());
            }
            ann.as_object_mut()
                .expect("made an object")
                .insert(HASH.into(), Value::String(h.clone()));
            let name = m["name"].as_str().unwrap_or_default().to_owned();
            let namespace = m
                .get("namespace")
                .and_then(Value::as_str)
                .map(str::to_owned);
            Object {
                api_version,
                kind,
                name,
                namespace,
                source,
                body,
                hash: h,
            }
        })
        .collect();
    // Stable: within a rank, the order written.
    out.sort_by_key(Object::rank);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> Owner {
        Owner {
            project: "shop".into(),
            unit: "web".into(),
            invocation: "inv1".into(),
        }
    }

    const APP: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: example/web:latest
      - name: side
        image: busybox
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: '@daily'
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: job
            image: example/web
";

    #[test]
    fn documents_are_split_namespaces_first_and_labelled() {
        let docs = documents(Path::new("app.yaml"), APP).unwrap();
        assert_eq!(docs.len(), 3, "the empty document is dropped: {docs:?}");
        let images = BTreeMap::from([("example/web".into(), "example/web:abc".into())]);
        let objs = prepare(docs, &owner(), &images);
        let kinds: Vec<&str> = objs.iter().map(|o| o.kind.as_str()).collect();
        assert_eq!(kinds, ["Namespace", "Deployment", "CronJob"]);
        let d = &objs[1];
        assert_eq!(d.source, "app.yaml (document 1)");
        let labels = &d.body["metadata"]["labels"];
        assert_eq!(labels[PROJECT], "shop");
        assert_eq!(labels[UNIT], "web");
        assert_eq!(labels[INVOCATION], "inv1");
        assert_eq!(d.body["metadata"]["annotations"][HASH], d.hash.as_str());
        let tpl = &d.body["spec"]["template"];
        assert_eq!(tpl["metadata"]["labels"]["app"], "web");
        assert_eq!(tpl["metadata"]["labels"][UNIT], "web");
        assert!(tpl["metadata"]["labels"].get(INVOCATION).is_none());
        assert_eq!(tpl["spec"]["containers"][0]["image"], "example/web:abc");
        assert_eq!(tpl["spec"]["containers"][1]["image"], "busybox");
        let cj = &objs[2].body["spec"]["jobTemplate"]["spec"]["template"];
        assert_eq!(cj["spec"]["containers"][0]["image"], "example/web:abc");
        assert_eq!(cj["metadata"]["labels"][PROJECT], "shop");
    }

    #[test]
    fn the_hash_ignores_the_invocation_and_follows_content_and_images() {
        let docs = || documents(Path::new("a.yaml"), APP).unwrap();
        let none = BTreeMap::new();
        let a = prepare(docs(), &owner(), &none);
        let mut other = owner();
        other.invocation = "inv2".into();
        let b = prepare(docs(), &other, &none);
        assert_eq!(a[1].hash, b[1].hash);
        let images = BTreeMap::from([("example/web".into(), "example/web:new".into())]);
        let c = prepare(docs(), &owner(), &images);
        assert_ne!(a[1].hash, c[1].hash);
        assert_eq!(a[0].hash, c[0].hash, "the namespace did not change");
    }

    #[test]
    fn repositories_of_references() {
        assert_eq!(repository("example/web"), "example/web");
        assert_eq!(repository("example/web:1.2"), "example/web");
        assert_eq!(repository("example/web@sha256:ab"), "example/web");
        assert_eq!(repository("localhost:5000/web"), "localhost:5000/web");
        assert_eq!(repository("localhost:5000/web:2"), "localhost:5000/web");
    }

    #[test]
    fn lists_expand_and_bad_documents_name_the_file() {
        let list = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n";
        let docs = documents(Path::new("l.yaml"), list).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].0, "l.yaml item 2");

        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("bad.yaml");
        std::fs::write(&f, "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n").unwrap();
        let e = load(std::slice::from_ref(&f)).unwrap_err().to_string();
        assert!(e.contains("bad.yaml") && e.contains("metadata.name"), "{e}");
        std::fs::write(&f, "kind: [\n").unwrap();
        let e = load(std::slice::from_ref(&f)).unwrap_err().to_string();
        assert!(e.contains("not valid YAML"), "{e}");
        let e = load(&[tmp.path().join("missing.yaml")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("missing.yaml") && e.contains("cannot read"),
            "{e}"
        );
    }

    #[test]
    fn directories_are_read_in_name_order() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("b.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
        )
        .unwrap();
        std::fs::write(
            tmp.path().join("a.yml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
        )
        .unwrap();
        std::fs::write(tmp.path().join("notes.txt"), "not a manifest").unwrap();
        let docs = load(&[tmp.path().to_path_buf()]).unwrap();
        let names: Vec<&str> = docs
            .iter()
            .map(|(_, d)| d["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["a", "b"]);
    }
}
