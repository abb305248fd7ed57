//! Children specific to `container` units (image, build, command,
//! entrypoint, publish, volume, workdir, user, network, healthcheck) and to
//! `kubernetes` units (manifests, context, namespace, kubeconfig,
//! readiness, image, port-forward).

use devctl_units::{
    ContainerSpec, ImageBuild, KubeImage, KubeReadiness, KubeSpec, PortForward, Publish, Unit,
    Volume,
};
use kdl::KdlNode;

use crate::reader::{self as r, Cx, args, check_shape, clip, prop};
use crate::settings::argv;

fn spec(u: &mut Unit) -> &mut ContainerSpec {
    u.container.get_or_insert_default()
}

fn kube(u: &mut Unit) -> &mut KubeSpec {
    u.kubernetes.get_or_insert_default()
}

/// A single word: text without whitespace.
fn word(cx: &mut Cx, n: &KdlNode, what: &str) -> Option<String> {
    let e = args(n)[0];
    let s = r::text(cx, e, what)?;
    if s.chars().any(char::is_whitespace) {
        cx.err_help(
            "devctl::manifest::bad-value",
            format!("{what} `{}` contains whitespace", clip(&s)),
            e.span(),
            "whitespace",
            format!("{what} is a single word"),
        );
        return None;
    }
    Some(s)
}

/// Read one container or kubernetes child (the caller checked that the
/// name is allowed for the unit's kind).
pub fn read_child(cx: &mut Cx, u: &mut Unit, n: &KdlNode) {
    let name = n.name().value();
    let one = |cx: &mut Cx| check_shape(cx, n, 1, Some(1), &[], false);
    match name {
        "image" if u.kind == devctl_units::UnitKind::Kubernetes => read_kube_image(cx, u, n),
        "image" => {
            if one(cx)
                && let Some(img) = word(cx, n, "the image")
            {
                spec(u).image = img;
            }
        }
        "build" => {
            if check_shape(cx, n, 1, Some(1), &["dockerfile"], false) {
                let context = r::path(cx, args(n)[0], "the build context");
                let dockerfile = match prop(n, "dockerfile") {
                    Some(e) => r::text(cx, e, "the dockerfile"),
                    None => Some("Dockerfile".to_owned()),
                };
                if let (Some(context), Some(dockerfile)) = (context, dockerfile) {
                    spec(u).build = Some(ImageBuild {
                        context,
                        dockerfile,
                    });
                }
            }
        }
        "command" | "entrypoint" => {
            if check_shape(cx, n, 1, None, &[], false) {
                let v = argv(cx, &args(n), &format!("a {name} argument"));
                if name == "command" {
                    spec(u).command = v;
                } else {
                    spec(u).entrypoint = v;
                }
            }
        }
        "publish" => read_publish(cx, u, n),
        "volume" => read_volume(cx, u, n),
        "workdir" => {
            if one(cx) {
                let e = args(n)[0];
                if let Some(w) = r::text(cx, e, "the workdir") {
                    if w.starts_with('/') {
                        spec(u).workdir = Some(w);
                    } else {
                        cx.err_help(
                            "devctl::manifest::bad-value",
                            "the container workdir must be absolute",
                            e.span(),
                            "relative path",
                            "write a path inside the container, like \"/app\"",
                        );
                    }
                }
            }
        }
        "user" => {
            if one(cx) {
                spec(u).user = word(cx, n, "the user");
            }
        }
        "network" => {
            if one(cx) {
                spec(u).network = word(cx, n, "the network");
            }
        }
        "healthcheck" => {
            if one(cx) {
                spec(u).healthcheck = r::boolean(cx, args(n)[0], "healthcheck").unwrap_or(false);
            }
        }
        "manifests" => {
            if check_shape(cx, n, 1, None, &[], false) {
                for e in args(n) {
                    if let Some(p) = r::path(cx, e, "the manifest path") {
                        kube(u).manifests.push(p);
                    }
                }
            }
        }
        "context" => {
            if one(cx) {
                kube(u).context = word(cx, n, "the kubeconfig context");
            }
        }
        "namespace" => {
            if one(cx) {
                kube(u).namespace = word(cx, n, "the namespace");
            }
        }
        "kubeconfig" => {
            if one(cx)
                && let Some(p) = r::path(cx, args(n)[0], "the kubeconfig path")
            {
                kube(u).kubeconfig = Some(p);
            }
        }
        "readiness" => {
            if one(cx) {
                let e = args(n)[0];
                if let Some(s) = r::text(cx, e, "the readiness") {
                    match KubeReadiness::parse(&s) {
                        Some(m) => kube(u).readiness = m,
                        None => cx.err_help(
                            "devctl::manifest::bad-value",
                            format!("`{}` is not a readiness mode", clip(&s)),
                            e.span(),
                            "unknown mode",
                            "write \"auto\" (workloads rolled out), \"pods\" (the unit's pods Ready) or \"none\" (ready once applied)",
                        ),
                    }
                }
            }
        }
        _ => read_port_forward(cx, u, n),
    }
}

/// `image "NAME" build="CONTEXT" [dockerfile="FILE"]` in a kubernetes
/// unit: build NAME from CONTEXT and point the manifests' references to
/// NAME at the built image.
fn read_kube_image(cx: &mut Cx, u: &mut Unit, n: &KdlNode) {
    if !check_shape(cx, n, 1, Some(1), &["build", "dockerfile"], false) {
        return;
    }
    let Some(name) = word(cx, n, "the image") else {
        return;
    };
    if name.contains('@')
        || name
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains(':'))
    {
        cx.err_help(
            "devctl::manifest::bad-value",
            format!("the image `{}` has a tag or digest", clip(&name)),
            args(n)[0].span(),
            "tagged",
            "name the repository only (\"example/web\"): devctl tags the built image by its content",
        );
        return;
    }
    let Some(build) = prop(n, "build") else {
        cx.err_help(
            "devctl::manifest::missing-field",
            format!("the image `{}` has no `build`", clip(&name)),
            n.name().span(),
            "no build context",
            "add build=\"DIR\": the directory docker builds the image from",
        );
        return;
    };
    let context = r::path(cx, build, "the build context");
    let dockerfile = match prop(n, "dockerfile") {
        Some(e) => r::text(cx, e, "the dockerfile"),
        None => Some("Dockerfile".to_owned()),
    };
    if let (Some(context), Some(dockerfile)) = (context, dockerfile) {
        kube(u).images.push(KubeImage {
            name,
            build: ImageBuild {
                context,
                dockerfile,
            },
        });
    }
}

fn read_publish(cx: &mut Cx, u: &mut Unit, n: &KdlNode) {
    if !check_shape(cx, n, 1, Some(1), &["host", "ip", "protocol"], false) {
        return;
    }
    let container_port = r::port(cx, args(n)[0], "container port");
    let host_port = prop(n, "host").map(|e| r::port(cx, e, "host port"));
    let host_ip = prop(n, "ip").map(|e| {
        let s = r::text(cx, e, "ip")?;
        match s.parse::<std::net::IpAddr>() {
            Ok(_) => Some(s),
            Err(_) => {
                cx.err_help(
                    "devctl::manifest::bad-value",
                    format!("`{}` is not an IP address", clip(&s)),
                    e.span(),
                    "not an IP address",
                    "write \"127.0.0.1\", \"0.0.0.0\" or \"::1\"",
                );
                None
            }
        }
    });
    let protocol = match prop(n, "protocol") {
        Some(e) => match r::string(cx, e, "protocol").as_deref() {
            Some(p @ ("tcp" | "udp")) => Some(p.to_owned()),
            Some(other) => {
                cx.err_help(
                    "devctl::manifest::bad-value",
                    format!("unknown protocol `{}`", clip(other)),
                    e.span(),
                    "unknown protocol",
                    "write \"tcp\" or \"udp\"",
                );
                None
            }
            None => None,
        },
        None => Some("tcp".to_owned()),
    };
    let (Some(container_port), Some(protocol)) = (container_port, protocol) else {
        return;
    };
    // Given but invalid (already reported): skip.
    if host_port == Some(None) || host_ip == Some(None) {
        return;
    }
    spec(u).publish.push(Publish {
        container_port,
        host_port: host_port.flatten(),
        host_ip: host_ip.flatten(),
        protocol,
    });
}

fn read_volume(cx: &mut Cx, u: &mut Unit, n: &KdlNode) {
    if !check_shape(cx, n, 2, Some(2), &["read-only"], false) {
        return;
    }
    let a = args(n);
    let read_only = prop(n, "read-only")
        .and_then(|e| r::boolean(cx, e, "read-only"))
        .unwrap_or(false);
    let source = r::text(cx, a[0], "the volume source").and_then(|s| {
        if s.starts_with('.') || s.starts_with('/') {
            return Some(r::resolve(&cx.root, &s).display().to_string());
        }
        match devctl_units::validate_name(&s) {
            Ok(()) => Some(s),
            Err(_) => {
                cx.err_help("devctl::manifest::bad-value", format!("`{}` is neither a path nor a volume name", clip(&s)), a[0].span(), "bad volume source", "start host paths with ./ or /; volume names use letters, digits, '_', '.', '-'");
                None
            }
        }
    });
    let target = r::text(cx, a[1], "the volume target").and_then(|t| {
        if t.starts_with('/') && !t.contains(':') {
            Some(t)
        } else {
            cx.err_help(
                "devctl::manifest::bad-value",
                format!(
                    "volume target `{}` must be an absolute path without ':'",
                    clip(&t)
                ),
                a[1].span(),
                "bad target",
                "write a path inside the container, like \"/data\"",
            );
            None
        }
    });
    if let (Some(source), Some(target)) = (source, target) {
        if source.contains(':') {
            cx.err_help(
                "devctl::manifest::bad-value",
                "the volume source contains ':'",
                a[0].span(),
                "contains ':'",
                "docker cannot mount paths containing ':'",
            );
            return;
        }
        spec(u).volumes.push(Volume {
            source,
            target,
            read_only,
        });
    }
}

fn read_port_forward(cx: &mut Cx, u: &mut Unit, n: &KdlNode) {
    if !check_shape(cx, n, 2, Some(2), &["remote"], false) {
        return;
    }
    let a = args(n);
    let resource = r::text(cx, a[0], "the resource").and_then(|s| {
        let valid = s.split_once('/').is_some_and(|(k, name)| {
            matches!(k, "pod" | "deployment" | "service")
                && devctl_units::validate_name(name).is_ok()
        });
        if valid {
            Some(s)
        } else {
            cx.err_help(
                "devctl::manifest::bad-value",
                format!("`{}` is not a resource to forward to", clip(&s)),
                a[0].span(),
                "bad resource",
                "write \"pod/NAME\", \"deployment/NAME\" or \"service/NAME\"",
            );
            None
        }
    });
    let local = r::port(cx, a[1], "local port");
    let remote = match prop(n, "remote") {
        Some(e) => r::port(cx, e, "remote port"),
        None => local,
    };
    if let (Some(resource), Some(local_port), Some(remote_port)) = (resource, local, remote) {
        kube(u).port_forwards.push(PortForward {
            resource,
            local_port,
            remote_port,
        });
    }
}
