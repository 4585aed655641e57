//! deploy/: the Kubernetes manifests as `kubectl kustomize` renders them,
//! read back with an independent YAML parser (PyYAML) and checked against
//! the Kubernetes API schemas (kubernetes-validate, offline), for the facts
//! a safe rollout rests on; the ConfigMap's mailsetup.toml through
//! `mailsetup check` and a running server; the image's Containerfile
//! against both.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::common::serve_process::{ServeProcess, serve_command};
use crate::common::tools::{python_venv, require_programs};
use crate::common::{TestCa, output_within};

/// What `kubectl apply -k` applies.
const KUBERNETES_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/kubernetes");
/// The file kustomization.yaml turns into the ConfigMap.
const CONFIG_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/deploy/kubernetes/mailsetup.toml"
);
const CONTAINERFILE: &str = include_str!("../../deploy/container/Containerfile");

/// The oldest Kubernetes the manifests are checked against.
const OLDEST_KUBERNETES: &str = "1.30.0";
/// Kubernetes' API schemas for every release, in a PyPI package, so the
/// check needs no cluster (`kubectl apply --dry-run=client` does: it asks
/// the API server for them). It brings PyYAML, our YAML parser.
const VALIDATOR: &[&str] = &["kubernetes-validate==1.37.0"];

/// The rendered manifests: the YAML text and each document as JSON.
struct Rendered {
    yaml_path: PathBuf,
    objects: Vec<Value>,
    python: PathBuf,
    _dir: tempfile::TempDir,
}

/// `kubectl kustomize deploy/kubernetes`, parsed; `None` when kubectl or
/// the Python packages are missing (see `tools::skip_or_fail`).
fn rendered() -> Option<Rendered> {
    if !require_programs(&["kubectl"], "apt-get install kubernetes-client") {
        return None;
    }
    let python = python_venv("py-kubernetes-validate", VALIDATOR)?;
    let output = output_within(
        Command::new("kubectl").args(["kustomize", KUBERNETES_DIR]),
        Duration::from_secs(60),
    );
    assert!(
        output.status.success(),
        "kubectl kustomize: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let yaml_path = dir.path().join("rendered.yaml");
    std::fs::write(&yaml_path, &output.stdout).unwrap();
    let parsed = output_within(
        Command::new(&python).args([
            "-c",
            "import json, sys, yaml\n\
             with open(sys.argv[1]) as f:\n    \
                 json.dump([d for d in yaml.safe_load_all(f) if d], sys.stdout)",
            yaml_path.to_str().unwrap(),
        ]),
        Duration::from_secs(60),
    );
    assert!(
        parsed.status.success(),
        "PyYAML: {}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let objects: Vec<Value> = serde_json::from_slice(&parsed.stdout).unwrap();
    Some(Rendered {
        yaml_path,
        objects,
        python,
        _dir: dir,
    })
}

impl Rendered {
    /// The one object of `kind`.
    fn one(&self, kind: &str) -> &Value {
        let found: Vec<&Value> = self.objects.iter().filter(|o| o["kind"] == kind).collect();
        assert_eq!(found.len(), 1, "one {kind} expected, got {found:?}");
        found[0]
    }

    fn pod_spec(&self) -> &Value {
        &self.one("Deployment")["spec"]["template"]["spec"]
    }

    fn pod_labels(&self) -> &Value {
        &self.one("Deployment")["spec"]["template"]["metadata"]["labels"]
    }

    /// The mailsetup container (the only one).
    fn container(&self) -> &Value {
        let containers = self.pod_spec()["containers"].as_array().unwrap();
        assert_eq!(containers.len(), 1, "{containers:?}");
        &containers[0]
    }

    /// The container port `port` names (a name or a number).
    fn container_port(&self, port: &Value) -> u64 {
        if let Some(number) = port.as_u64() {
            return number;
        }
        self.container()["ports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == *port)
            .unwrap_or_else(|| panic!("no container port named {port}"))["containerPort"]
            .as_u64()
            .unwrap()
    }

    /// The pod volume called `name`, and where the container mounts it.
    fn volume(&self, name: &str) -> (&Value, &str) {
        let volume = self.pod_spec()["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no volume {name}"));
        let mount = self.container()["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("volume {name} is not mounted"));
        assert_eq!(mount["readOnly"], true, "{mount}");
        assert!(
            mount.get("subPath").is_none(),
            "subPath mounts never update"
        );
        (volume, mount["mountPath"].as_str().unwrap())
    }

    /// The ConfigMap's mailsetup.toml, parsed.
    fn config(&self) -> toml::Table {
        let text = self.one("ConfigMap")["data"]["mailsetup.toml"]
            .as_str()
            .expect("the ConfigMap has mailsetup.toml");
        text.parse().unwrap()
    }
}

/// The ConfigMap's source file, parsed (no kubectl needed).
fn config_file() -> toml::Table {
    std::fs::read_to_string(CONFIG_FILE)
        .unwrap()
        .parse()
        .unwrap()
}

/// The port of the one `[server] <listener>` address.
fn listener_port(config: &toml::Table, listener: &str) -> u64 {
    let addresses = config["server"][listener].as_array().unwrap();
    assert_eq!(addresses.len(), 1, "{listener}: {addresses:?}");
    let address: std::net::SocketAddr = addresses[0].as_str().unwrap().parse().unwrap();
    address.port().into()
}

/// Every `[[domain]]` name, and `public_name`.
fn served_names(config: &toml::Table) -> Vec<String> {
    let mut names = vec![
        config["server"]["public_name"]
            .as_str()
            .expect("[server] public_name")
            .to_owned(),
    ];
    for domain in config["domain"].as_array().unwrap() {
        let name = domain["name"].as_str().unwrap();
        names.push(format!("autoconfig.{name}"));
        names.push(format!("autodiscover.{name}"));
    }
    names
}

/// The image's ENTRYPOINT, as a JSON array.
fn entrypoint() -> Vec<String> {
    let line = CONTAINERFILE
        .lines()
        .find_map(|l| l.strip_prefix("ENTRYPOINT "))
        .expect("the Containerfile has an exec-form ENTRYPOINT");
    serde_json::from_str(line).unwrap()
}

#[test]
fn manifests_pass_the_kubernetes_api_schemas() {
    let Some(rendered) = rendered() else { return };
    for version in [OLDEST_KUBERNETES, "1.37.0"] {
        let output = output_within(
            Command::new(&rendered.python)
                .args(["-m", "kubernetes_validate", "--strict", "-k", version])
                .arg(&rendered.yaml_path),
            Duration::from_secs(120),
        );
        let said = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "Kubernetes {version}:\n{said}");
        // cert-manager's Certificate is a custom resource: no schema here;
        // certificate_covers_every_domain_... checks what we rely on.
        for line in said.lines().filter(|l| !l.starts_with("INFO")) {
            assert!(
                line.contains("kind Certificate with api version cert-manager.io/v1"),
                "Kubernetes {version}: {line}"
            );
        }
        for kind in [
            "namespace",
            "configmap",
            "service",
            "deployment",
            "poddisruptionbudget",
        ] {
            assert!(
                said.contains(&format!("passed for resource {kind}/")),
                "{kind} not validated against {version}:\n{said}"
            );
        }
    }
}

#[test]
fn at_least_two_replicas_on_different_nodes_under_a_disruption_budget() {
    let Some(rendered) = rendered() else { return };
    let deployment = rendered.one("Deployment");
    let replicas = deployment["spec"]["replicas"].as_u64().unwrap();
    assert!(replicas >= 2, "replicas: {replicas}");
    // A rollout starts the new pod before it stops an old one.
    assert_eq!(
        deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"],
        0
    );
    let labels = rendered.pod_labels();
    assert_eq!(deployment["spec"]["selector"]["matchLabels"], *labels);

    let spread = rendered.pod_spec()["topologySpreadConstraints"]
        .as_array()
        .unwrap();
    let by_node = spread
        .iter()
        .find(|c| c["topologyKey"] == "kubernetes.io/hostname")
        .expect("replicas spread over nodes");
    assert_eq!(by_node["whenUnsatisfiable"], "DoNotSchedule");
    assert_eq!(by_node["labelSelector"]["matchLabels"], *labels);

    let budget = rendered.one("PodDisruptionBudget");
    assert_eq!(budget["spec"]["selector"]["matchLabels"], *labels);
    let spec = &budget["spec"];
    match (
        spec["maxUnavailable"].as_u64(),
        spec["minAvailable"].as_u64(),
    ) {
        (Some(max_unavailable), None) => assert!(max_unavailable < replicas),
        (None, Some(min_available)) => assert!((1..replicas).contains(&min_available)),
        other => panic!("a budget in numbers of pods expected: {other:?}"),
    }
}

#[test]
fn probes_ask_healthz_on_the_admin_listener() {
    let Some(rendered) = rendered() else { return };
    let admin_port = listener_port(&rendered.config(), "admin");
    let container = rendered.container();
    for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
        let get = &container[probe]["httpGet"];
        assert_eq!(get["path"], "/healthz", "{probe}");
        assert_eq!(rendered.container_port(&get["port"]), admin_port, "{probe}");
    }
}

/// SIGTERM comes as the endpoint removal starts: the process keeps
/// serving (its /healthz saying 503) for `shutdown_delay_secs` while the
/// removal spreads, then drains for `shutdown_grace_secs`; the kubelet's
/// SIGKILL must come after both (and after a preStop hook, if one is
/// added: it runs before SIGTERM, on the same clock).
#[test]
fn termination_grace_covers_the_shutdown_delay_and_grace() {
    let Some(rendered) = rendered() else { return };
    let limits = &rendered.config()["limits"];
    let seconds = |key: &str| limits[key].as_integer().unwrap() as u64;
    let delay = seconds("shutdown_delay_secs");
    let drain = seconds("shutdown_grace_secs");
    assert!(delay > 0, "a pause while the endpoint removal spreads");
    let pre_stop = rendered.container()["lifecycle"]["preStop"]["sleep"]["seconds"]
        .as_u64()
        .unwrap_or(0);
    let grace = rendered.pod_spec()["terminationGracePeriodSeconds"]
        .as_u64()
        .unwrap();
    assert!(
        grace > pre_stop + delay + drain,
        "terminationGracePeriodSeconds {grace} <= preStop {pre_stop} \
         + shutdown_delay_secs {delay} + shutdown_grace_secs {drain}"
    );
}

#[test]
fn pods_run_non_root_read_only_and_without_capabilities() {
    let Some(rendered) = rendered() else { return };
    let pod = rendered.pod_spec();
    assert_eq!(pod["automountServiceAccountToken"], false);
    let pod_security = &pod["securityContext"];
    assert_eq!(pod_security["runAsNonRoot"], true);
    let uid = pod_security["runAsUser"].as_u64().unwrap();
    assert_ne!(uid, 0);
    assert_eq!(pod_security["seccompProfile"]["type"], "RuntimeDefault");

    let security = &rendered.container()["securityContext"];
    assert_eq!(security["runAsNonRoot"], true);
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_ne!(security["privileged"], true);
    assert_eq!(security["capabilities"]["drop"], serde_json::json!(["ALL"]));
    // Every listener is above 1024, so not even NET_BIND_SERVICE is added.
    let config = rendered.config();
    for listener in ["http", "https", "admin"] {
        assert!(listener_port(&config, listener) >= 1024, "{listener}");
    }
    assert!(security["capabilities"].get("add").is_none(), "{security}");

    // The image runs as the same numeric user.
    let user = CONTAINERFILE
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("the Containerfile sets USER");
    assert_eq!(user.trim(), format!("{uid}:{}", pod_security["runAsGroup"]));
    assert!(CONTAINERFILE.contains("\nFROM scratch\n"));
}

#[test]
fn service_maps_80_and_443_to_the_http_and_https_listeners() {
    let Some(rendered) = rendered() else { return };
    let config = rendered.config();
    let service = rendered.one("Service");
    assert_eq!(service["spec"]["selector"], *rendered.pod_labels());
    let ports = service["spec"]["ports"].as_array().unwrap();
    let mut mapped: Vec<(u64, u64)> = ports
        .iter()
        .map(|p| {
            (
                p["port"].as_u64().unwrap(),
                rendered.container_port(&p["targetPort"]),
            )
        })
        .collect();
    mapped.sort();
    assert_eq!(
        mapped,
        [
            (80, listener_port(&config, "http")),
            (443, listener_port(&config, "https"))
        ],
        "the admin listener (/metrics) stays out of the Service"
    );
}

#[test]
fn certificate_covers_every_domain_and_fills_the_mounted_secret() {
    let Some(rendered) = rendered() else { return };
    let config = rendered.config();
    let certificate = rendered.one("Certificate");
    assert_eq!(certificate["apiVersion"], "cert-manager.io/v1");
    let dns_names: Vec<&str> = certificate["spec"]["dnsNames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    for name in served_names(&config) {
        assert!(
            dns_names.contains(&name.as_str()),
            "{name} not in {dns_names:?}"
        );
    }
    assert!(certificate["spec"]["issuerRef"]["name"].is_string());

    let (tls, mount_path) = rendered.volume("tls");
    assert_eq!(
        tls["secret"]["secretName"],
        certificate["spec"]["secretName"]
    );
    // Not readable by every user (`check` would warn), readable by fsGroup.
    let mode = tls["secret"]["defaultMode"].as_u64().unwrap();
    assert_eq!(mode & 0o007, 0, "defaultMode {mode:o}");
    assert_eq!(mode & 0o040, 0o040, "defaultMode {mode:o}");
    assert!(rendered.pod_spec()["securityContext"]["fsGroup"].is_u64());
    // cert-manager's Secret keys, where [tls] looks for them.
    assert_eq!(
        config["tls"]["certificate"].as_str(),
        Some(format!("{mount_path}/tls.crt").as_str())
    );
    assert_eq!(
        config["tls"]["private_key"].as_str(),
        Some(format!("{mount_path}/tls.key").as_str())
    );
}

#[test]
fn configmap_carries_mailsetup_toml_where_the_image_reads_it() {
    let Some(rendered) = rendered() else { return };
    let config_map = rendered.one("ConfigMap");
    assert_eq!(
        config_map["data"]["mailsetup.toml"].as_str(),
        Some(std::fs::read_to_string(CONFIG_FILE).unwrap().as_str())
    );
    let (volume, mount_path) = rendered.volume("config");
    assert_eq!(volume["configMap"]["name"], config_map["metadata"]["name"]);
    // Its name carries a hash of the file: an edit rolls the pods, and
    // the mounted file never changes under a running pod, so watching it
    // would be for nothing.
    assert!(
        config_map["metadata"]["name"]
            .as_str()
            .unwrap()
            .starts_with("mailsetup-config-")
    );
    assert_ne!(
        rendered.config()["server"].get("watch"),
        Some(&toml::Value::Boolean(true))
    );
    let entrypoint = entrypoint();
    assert_eq!(entrypoint[1..3], ["serve", "--config"]);
    assert_eq!(entrypoint[3], format!("{mount_path}/mailsetup.toml"));
    assert!(rendered.container().get("command").is_none());
}

/// deploy/kubernetes/mailsetup.toml with its certificate paths on a test
/// certificate for its names (key mode 0440, as the Secret's), and, with
/// `loopback`, its listeners on ephemeral loopback ports.
fn runnable_config(ca: &TestCa, loopback: bool) -> PathBuf {
    let config = config_file();
    let mut text = std::fs::read_to_string(CONFIG_FILE).unwrap();
    let live = ca.dir.path().join("tls");
    let names = served_names(&config);
    ca.issue_into(
        &live,
        &names.iter().map(String::as_str).collect::<Vec<_>>(),
        false,
    );
    let key = live.join("privkey.pem");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o440)).unwrap();
    let mut replace = |from: &str, to: &str| {
        assert!(text.contains(from), "{from} not in {CONFIG_FILE}");
        text = text.replace(from, to);
    };
    replace(
        config["tls"]["certificate"].as_str().unwrap(),
        live.join("fullchain.pem").to_str().unwrap(),
    );
    replace(
        config["tls"]["private_key"].as_str().unwrap(),
        key.to_str().unwrap(),
    );
    if loopback {
        for listener in ["http", "https", "admin"] {
            let address = config["server"][listener][0].as_str().unwrap();
            replace(&format!("\"{address}\""), "\"127.0.0.1:0\"");
        }
    }
    let path = ca.dir.path().join("mailsetup.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn configmap_configuration_passes_mailsetup_check_without_warnings() {
    let ca = TestCa::new();
    let config = runnable_config(&ca, false);
    let output = output_within(
        Command::new(env!("CARGO_BIN_EXE_mailsetup")).args([
            "check".as_ref(),
            "--config".as_ref(),
            config.as_os_str(),
        ]),
        Duration::from_secs(60),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(
        !stdout.contains("warning:") && !stderr.contains("warning:"),
        "{stdout}{stderr}"
    );
    for domain in config_file()["domain"].as_array().unwrap() {
        assert!(
            stdout.contains(domain["name"].as_str().unwrap()),
            "{stdout}"
        );
    }
}

#[test]
fn configmap_configuration_answers_healthz_on_the_admin_listener() {
    let ca = TestCa::new();
    let config = runnable_config(&ca, true);
    let server = ServeProcess::spawn(serve_command(&config).stderr(std::process::Stdio::null()));
    let admin = server
        .printed
        .iter()
        .find_map(|l| l.strip_prefix("admin (metrics) on http://"))
        .unwrap_or_else(|| panic!("no admin listener in {:?}", server.printed));
    let mut stream = TcpStream::connect(admin).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200 "), "{reply}");
}
