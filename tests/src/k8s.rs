//! A real Kubernetes control plane for tests: etcd, kube-apiserver,
//! kube-controller-manager, kube-scheduler and kwok, built from Go modules by
//! `.ci/k8s-build` (once, into a cache outside the repository) and started
//! here on loopback ports in a throwaway directory.
//!
//! Everything but container execution is real. kwok stands in for kubelets:
//! it keeps one fake node (`kwok-node-0`) Ready, moves pods scheduled to it
//! through its Stage objects (Ready, Succeeded, deleted), serves a file the
//! test writes as a container's log (its `Logs`/`ClusterLogs` objects) and
//! ends a port-forward at an address the test names (`PortForward`/
//! `ClusterPortForward`), both through the API server's streaming endpoints.
//!
//! [`Cluster::start`] returns an error naming the step and the component's
//! log when the control plane cannot be built or started; tests panic with it
//! (they never skip). Dropping the [`Cluster`] kills every process group it
//! started; a process also dies with the test thread that spawned it.

use std::fmt;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{MARKER_ENV, random_id, run_with_ceiling};

/// The fake node kwok manages; pods are scheduled to it.
pub const NODE: &str = "kwok-node-0";
/// The annotation that marks a node as kwok's to manage.
const NODE_SELECTOR: &str = "kwok.x-k8s.io/node=fake";
/// Ceiling for each start-up step on a loaded two-core machine.
const STEP_CEILING: Duration = Duration::from_secs(120);
/// How long a component gets to exit after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Why the control plane could not be built or started.
#[derive(Debug)]
pub struct ClusterError {
    /// The step that failed ("build", "certificates", "kube-apiserver ready", …).
    pub step: String,
    /// What happened, with the relevant output or log tail.
    pub detail: String,
}

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Kubernetes test cluster: {} failed: {}\n(the control plane is built by .ci/k8s-build; see tests/k8s/README.md)",
            self.step, self.detail
        )
    }
}

impl std::error::Error for ClusterError {}

fn fail(step: &str, detail: impl Into<String>) -> ClusterError {
    ClusterError {
        step: step.to_owned(),
        detail: detail.into(),
    }
}

/// One started component: its process (leader of its own process group)
/// and the file its output goes to.
struct Component {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

/// A running control plane; torn down on drop.
pub struct Cluster {
    dir: Option<tempfile::TempDir>,
    cache: PathBuf,
    kubeconfig: PathBuf,
    server: String,
    marker: String,
    components: Vec<Component>,
}

/// The repository's build script for the control plane.
fn build_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../.ci/k8s-build")
}

/// Build (or reuse from the cache) the control plane binaries; the cache
/// directory holding `bin/` and `kwok/`.
pub fn build() -> Result<PathBuf, ClusterError> {
    build_with(Command::new(build_script()))
}

/// [`build`] into the cache under `root` instead of the default one.
pub fn build_in(root: &Path) -> Result<PathBuf, ClusterError> {
    let mut cmd = Command::new(build_script());
    cmd.env("DEVCTL_K8S_CACHE", root);
    build_with(cmd)
}

fn build_with(mut cmd: Command) -> Result<PathBuf, ClusterError> {
    let script = build_script();
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| fail("build", format!("cannot run {}: {e}", script.display())))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(fail(
            "build",
            format!(
                "{} exited with {}:\n{}",
                script.display(),
                out.status,
                tail(&stderr, 40)
            ),
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let dir = stdout.lines().last().map(PathBuf::from).unwrap_or_default();
    if !dir.join("bin/kube-apiserver").is_file() {
        return Err(fail(
            "build",
            format!(
                "{} printed no cache directory with bin/kube-apiserver:\n{stderr}",
                script.display()
            ),
        ));
    }
    Ok(dir)
}

/// A port on 127.0.0.1 that was free a moment ago. Tests that start clusters
/// run one at a time (the `k8s` nextest group), so the gap is not raced.
fn free_port() -> Result<u16, ClusterError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| fail("ports", format!("cannot bind 127.0.0.1:0: {e}")))
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn write(path: &Path, text: &str) -> Result<(), ClusterError> {
    std::fs::write(path, text).map_err(|e| fail("files", format!("write {}: {e}", path.display())))
}

/// Run `openssl ARGS` in `dir`.
fn openssl(dir: &Path, args: &[&str]) -> Result<(), ClusterError> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            fail(
                "certificates",
                format!("cannot run openssl (install it: .ci/setup-machine): {e}"),
            )
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(fail(
            "certificates",
            format!(
                "openssl {} exited with {}: {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ),
        ))
    }
}

/// A CA, serving certificates for the API server and kwok's kubelet
/// endpoint (both on 127.0.0.1), and the service-account signing key.
fn certificates(dir: &Path) -> Result<(), ClusterError> {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "3650",
        "-subj",
        "/CN=devctl-test-ca",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(dir, &ca)?;
    for (name, sans) in [
        (
            "apiserver",
            "subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.96.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc",
        ),
        ("kwok", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
    ] {
        let (key, crt, subj) = (
            format!("{name}.key"),
            format!("{name}.crt"),
            format!("/CN={name}"),
        );
        let mut args = vec!["req", "-x509", "-CA", "ca.crt", "-CAkey", "ca.key"];
        args.extend(ec);
        args.extend([
            "-keyout",
            &key,
            "-out",
            &crt,
            "-days",
            "365",
            "-subj",
            &subj,
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-addext",
            "keyUsage=critical,digitalSignature",
            "-addext",
            "extendedKeyUsage=serverAuth",
            "-addext",
            sans,
        ]);
        openssl(dir, &args)?;
    }
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "sa.key",
        ],
    )?;
    openssl(dir, &["pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub"])
}

/// A kubeconfig for `server` that trusts `ca` and presents `token`.
fn kubeconfig(server: &str, ca: &Path, user: &str, token: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: devctl-test
  cluster:
    server: {server}
    certificate-authority: {ca}
users:
- name: {user}
  user:
    token: {token}
contexts:
- name: devctl-test
  context:
    cluster: devctl-test
    user: {user}
    namespace: default
current-context: devctl-test
",
        ca = ca.display()
    )
}

/// The fake node: kwok manages it (annotation), its stages make it Ready.
fn node_manifest() -> String {
    let (key, value) = NODE_SELECTOR
        .split_once('=')
        .expect("selector is key=value");
    format!(
        "apiVersion: v1
kind: Node
metadata:
  name: {NODE}
  annotations:
    {key}: {value}
    node.alpha.kubernetes.io/ttl: \"0\"
  labels:
    kubernetes.io/hostname: {NODE}
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
"
    )
}

impl Cluster {
    /// Build or reuse the binaries, then start a fresh control plane and
    /// wait until it schedules pods to a Ready node.
    pub fn start() -> Result<Cluster, ClusterError> {
        let cache = build()?;
        let dir = tempfile::Builder::new()
            .prefix("devctl-k8s-")
            .tempdir()
            .map_err(|e| fail("files", format!("temp dir: {e}")))?;
        let path = dir.path().to_owned();
        let server_port = free_port()?;
        let server = format!("https://127.0.0.1:{server_port}");
        let mut cluster = Cluster {
            dir: Some(dir),
            kubeconfig: path.join("admin.kubeconfig"),
            cache,
            server,
            marker: random_id(),
            components: Vec::new(),
        };
        cluster.boot(&path, server_port)?;
        Ok(cluster)
    }

    fn boot(&mut self, d: &Path, server_port: u16) -> Result<(), ClusterError> {
        certificates(d)?;
        let ca = d.join("ca.crt");
        let tokens = [
            ("admin", random_id(), "system:masters"),
            ("system:kube-controller-manager", random_id(), ""),
            ("system:kube-scheduler", random_id(), ""),
        ];
        let csv: String = tokens
            .iter()
            .enumerate()
            .map(|(i, (user, token, group))| format!("{token},{user},{i},\"{group}\"\n"))
            .collect();
        write(&d.join("tokens.csv"), &csv)?;
        for (file, (user, token, _)) in ["admin", "controller-manager", "scheduler"]
            .iter()
            .zip(&tokens)
        {
            write(
                &d.join(format!("{file}.kubeconfig")),
                &kubeconfig(&self.server, &ca, user, token),
            )?;
        }

        let (etcd_client, etcd_peer, kwok_port) = (free_port()?, free_port()?, free_port()?);
        let etcd_url = format!("http://127.0.0.1:{etcd_client}");
        let peer_url = format!("http://127.0.0.1:{etcd_peer}");
        let p = |name: &str| d.join(name).display().to_string();
        self.spawn(
            "etcd",
            &[
                "--name=default".into(),
                format!("--data-dir={}", p("etcd")),
                format!("--listen-client-urls={etcd_url}"),
                format!("--advertise-client-urls={etcd_url}"),
                format!("--listen-peer-urls={peer_url}"),
                format!("--initial-advertise-peer-urls={peer_url}"),
                format!("--initial-cluster=default={peer_url}"),
                "--listen-metrics-urls=".into(),
                // Throwaway data: fsync latency on a shared disk buys nothing.
                "--unsafe-no-fsync".into(),
                "--log-level=warn".into(),
            ],
        )?;
        self.spawn(
            "kube-apiserver",
            &[
                format!("--etcd-servers={etcd_url}"),
                "--bind-address=127.0.0.1".into(),
                "--advertise-address=127.0.0.1".into(),
                format!("--secure-port={server_port}"),
                format!("--cert-dir={}", p("apiserver-certs")),
                format!("--tls-cert-file={}", p("apiserver.crt")),
                format!("--tls-private-key-file={}", p("apiserver.key")),
                format!("--token-auth-file={}", p("tokens.csv")),
                "--authorization-mode=Node,RBAC".into(),
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local".into(),
                format!("--service-account-key-file={}", p("sa.pub")),
                format!("--service-account-signing-key-file={}", p("sa.key")),
                "--service-cluster-ip-range=10.96.0.0/16".into(),
                // The `kubernetes` Service's endpoint would be 127.0.0.1, which
                // Endpoints validation rejects; nothing in-cluster needs it.
                "--endpoint-reconciler-type=none".into(),
                // Logs and port-forwards reach kwok's kubelet endpoint by the
                // node's InternalIP, over TLS checked against the test CA.
                "--kubelet-preferred-address-types=InternalIP".into(),
                format!("--kubelet-certificate-authority={}", p("ca.crt")),
            ],
        )?;
        self.wait("kube-apiserver ready", || {
            self.kubectl_quiet(&["get", "--raw=/readyz"])
                .is_some_and(|o| o.trim() == "ok")
        })?;

        let crds = self.cache.join("kwok/crds");
        self.kubectl_step(
            "kwok CRDs",
            &["apply", "--server-side", "-f", &crds.display().to_string()],
        )?;
        self.kubectl_step(
            "kwok CRDs",
            &[
                "wait",
                "--for=condition=Established",
                "crd",
                "--all",
                "--timeout=120s",
            ],
        )?;

        self.spawn(
            "kube-controller-manager",
            &[
                format!("--kubeconfig={}", p("controller-manager.kubeconfig")),
                format!("--service-account-private-key-file={}", p("sa.key")),
                format!("--root-ca-file={}", p("ca.crt")),
                "--use-service-account-credentials=true".into(),
                "--leader-elect=false".into(),
                "--secure-port=0".into(),
            ],
        )?;
        self.spawn(
            "kube-scheduler",
            &[
                format!("--kubeconfig={}", p("scheduler.kubeconfig")),
                "--leader-elect=false".into(),
                "--secure-port=0".into(),
            ],
        )?;
        let stages = self.cache.join("kwok/stages");
        let stage_files: Vec<String> = std::fs::read_dir(&stages)
            .map_err(|e| fail("kwok stages", format!("{}: {e}", stages.display())))?
            .filter_map(|e| e.ok().map(|e| e.path().display().to_string()))
            .collect();
        self.spawn(
            "kwok",
            &[
                format!("--kubeconfig={}", p("admin.kubeconfig")),
                format!("--config={}", stage_files.join(",")),
                "--manage-all-nodes=false".into(),
                format!("--manage-nodes-with-annotation-selector={NODE_SELECTOR}"),
                "--node-ip=127.0.0.1".into(),
                format!("--node-port={kwok_port}"),
                format!("--server-address=127.0.0.1:{kwok_port}"),
                format!("--tls-cert-file={}", p("kwok.crt")),
                format!("--tls-private-key-file={}", p("kwok.key")),
                "--node-lease-duration-seconds=40".into(),
                "--enable-crds=Logs,ClusterLogs,PortForward,ClusterPortForward".into(),
            ],
        )?;

        let node = d.join("node.yaml");
        write(&node, &node_manifest())?;
        self.kubectl_step("fake node", &["apply", "-f", &node.display().to_string()])?;
        self.wait("fake node Ready", || {
            self.kubectl_quiet(&[
                "get",
                "node",
                NODE,
                "-o",
                "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
            ])
            .is_some_and(|s| s == "True")
        })?;
        // Pods are admitted only once the controller manager has made the
        // namespace's default service account.
        self.wait("default service account", || {
            self.kubectl_quiet(&["get", "serviceaccount", "default", "-o", "name"])
                .is_some()
        })
    }

    /// Start `name` from the cache's bin/ in its own process group, output
    /// to `<name>.log`, killed if the spawning thread dies first.
    fn spawn(&mut self, name: &'static str, args: &[String]) -> Result<(), ClusterError> {
        let dir = self.dir().to_owned();
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log)
            .map_err(|e| fail(name, format!("create {}: {e}", log.display())))?;
        let err = out.try_clone().map_err(|e| fail(name, e.to_string()))?;
        let bin = self.cache.join("bin").join(name);
        let mut cmd = Command::new(&bin);
        cmd.args(args)
            .current_dir(&dir)
            // kwok reads ~/.kwok/kwok.yaml when it exists: not the user's.
            .env("HOME", &dir)
            .env(MARKER_ENV, &self.marker)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        // SAFETY: prctl is async-signal-safe and touches no parent memory.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .map_err(|e| fail(name, format!("cannot start {}: {e}", bin.display())))?;
        self.components.push(Component { name, child, log });
        Ok(())
    }

    /// Poll `ready` until true; fail at once when a component has exited,
    /// and after [`STEP_CEILING`], with the logs that explain it.
    fn wait(&self, step: &str, ready: impl Fn() -> bool) -> Result<(), ClusterError> {
        let start = Instant::now();
        loop {
            // A zombie is not alive: an exited component is seen before reaping.
            if let Some(c) = self.components.iter().find(|c| !crate::alive(c.child.id())) {
                let log = std::fs::read_to_string(&c.log).unwrap_or_default();
                return Err(fail(
                    step,
                    format!(
                        "{} exited; {}:\n{}",
                        c.name,
                        c.log.display(),
                        tail(&log, 30)
                    ),
                ));
            }
            if ready() {
                return Ok(());
            }
            if start.elapsed() > STEP_CEILING {
                return Err(fail(
                    step,
                    format!("not done after {STEP_CEILING:?}\n{}", self.log_tails(15)),
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn log_tails(&self, n: usize) -> String {
        self.components
            .iter()
            .map(|c| {
                let log = std::fs::read_to_string(&c.log).unwrap_or_default();
                format!("--- {} ({}):\n{}", c.name, c.log.display(), tail(&log, n))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// `kubectl ARGS` as a start-up step: its stdout, or the step's error.
    fn kubectl_step(&self, step: &str, args: &[&str]) -> Result<String, ClusterError> {
        match self.kubectl(args) {
            Ok(out) => Ok(out),
            Err(e) => Err(fail(step, format!("{e}\n{}", self.log_tails(15)))),
        }
    }

    /// A polled `kubectl ARGS`: its stdout, or nothing on any failure. A
    /// short request timeout keeps one hung request from eating the step.
    fn kubectl_quiet(&self, args: &[&str]) -> Option<String> {
        let mut all = vec!["--request-timeout=10s"];
        all.extend_from_slice(args);
        self.kubectl(&all).ok()
    }

    /// The working directory (certificates, kubeconfigs, logs, etcd data).
    pub fn dir(&self) -> &Path {
        self.dir
            .as_ref()
            .expect("cluster dir lives until drop")
            .path()
    }

    /// The admin kubeconfig (context `devctl-test`, namespace `default`).
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The API server's URL (`https://127.0.0.1:PORT`).
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The cache directory holding `bin/` (kubectl among them) and `kwok/`.
    pub fn cache(&self) -> &Path {
        &self.cache
    }

    /// The marker (in [`MARKER_ENV`]) every process of this cluster carries.
    pub fn marker(&self) -> &str {
        &self.marker
    }

    /// A `kubectl` command against this cluster.
    pub fn kubectl_command(&self) -> Command {
        let mut cmd = Command::new(self.cache.join("bin/kubectl"));
        cmd.arg(format!("--kubeconfig={}", self.kubeconfig.display()))
            .env("HOME", self.dir());
        cmd
    }

    /// Run `kubectl ARGS` to completion (ceiling: two minutes): its stdout
    /// on success, else a message with its exit status and stderr.
    pub fn kubectl(&self, args: &[&str]) -> Result<String, String> {
        let mut cmd = self.kubectl_command();
        cmd.args(args);
        let run = run_with_ceiling(cmd, Duration::from_secs(120));
        if run.code == Some(0) {
            Ok(run.stdout)
        } else {
            Err(format!(
                "kubectl {} exited with {:?}: {}{}",
                args.join(" "),
                run.code,
                run.stderr,
                run.stdout
            ))
        }
    }

    /// Kill every component (SIGTERM to its process group, SIGKILL after
    /// [`STOP_GRACE`]), newest first, and reap them.
    fn stop(&mut self) {
        while let Some(mut c) = self.components.pop() {
            let group = nix::unistd::Pid::from_raw(c.child.id() as i32);
            let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGTERM);
            let deadline = Instant::now() + STOP_GRACE;
            while matches!(c.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
            let _ = c.child.wait();
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let failed = std::thread::panicking();
        if failed {
            eprintln!(
                "Kubernetes test cluster logs at failure:\n{}",
                self.log_tails(20)
            );
        }
        self.stop();
        if let Some(dir) = self.dir.take()
            && failed
        {
            // Keep certificates, kubeconfigs and logs for a look.
            eprintln!(
                "Kubernetes test cluster files kept in {}",
                dir.keep().display()
            );
        }
    }
}

pub mod units;
