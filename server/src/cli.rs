//! Command-line interface.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "fleetdeck",
    version,
    about = "Staged rollouts across a fleet of Kubernetes clusters"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of `serve`, also accepted without the subcommand (`fleetdeck` alone serves).
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
// Parsed once at startup: the size of `Serve` does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Run fleetdeck: dashboard, hub, engine and simulated members (the default).
    Serve(ServeArgs),
    /// Print the kubeconfig of a running (or previously run) fleetdeck: contexts `hub`, `member1`, …
    Kubeconfig(KubeconfigArgs),
    /// Dashboard accounts of the embedded hub.
    #[command(subcommand)]
    User(UserCommand),
    /// Upgrade runs of the member clusters (seed 004), like `az fleet updaterun`.
    Updaterun {
        #[command(subcommand)]
        command: crate::updates_cli::UpdateRunCommand,
        #[command(flatten)]
        target: crate::updates_cli::Target,
    },
    /// Reusable stage sequences of upgrade runs, like `az fleet updatestrategy`.
    Updatestrategy {
        #[command(subcommand)]
        command: crate::updates_cli::UpdateStrategyCommand,
        #[command(flatten)]
        target: crate::updates_cli::Target,
    },
    /// Auto-upgrade profiles: runs made and started when a release comes, like
    /// `az fleet autoupgradeprofile`.
    Autoupgradeprofile {
        #[command(subcommand)]
        command: crate::updates_cli::AutoUpgradeProfileCommand,
        #[command(flatten)]
        target: crate::updates_cli::Target,
    },
    /// Gates of upgrade runs, like `az fleet gate`.
    Gate {
        #[command(subcommand)]
        command: crate::updates_cli::GateCommand,
        #[command(flatten)]
        target: crate::updates_cli::Target,
    },
    /// Member clusters' update groups, like `az fleet member update --update-group`.
    Member {
        #[command(subcommand)]
        command: crate::updates_cli::MemberCommand,
        #[command(flatten)]
        target: crate::updates_cli::Target,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a person: an entry in the users file, the (Cluster)RoleBinding to a shipped role on
    /// the running hub, and a one-time sign-in link (printed, with their kubectl token, once).
    Add(UserAddArgs),
    /// Remove a person: their entry in the users file (their kubectl token stops working, their
    /// dashboard sessions end) and the binding `user add` wrote.
    Remove(UserNameArgs),
    /// A new one-time sign-in link for a person (a forgotten password, an expired link).
    Link(UserNameArgs),
}

#[derive(Debug, Clone, Args)]
pub struct UserNameArgs {
    /// The person's name.
    pub name: String,
    /// The data directory of the running fleetdeck (as given to `serve`).
    #[arg(long, env = "FLEETDECK_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct UserAddArgs {
    /// The person's name (lower-case letters, digits, '-' and '.').
    pub name: String,
    /// What they may do: the shipped ClusterRole `fleetdeck-<role>` they are bound to.
    #[arg(long, value_enum)]
    pub role: crate::accounts::Role,
    /// Only in this namespace (a RoleBinding there) instead of the whole fleet.
    #[arg(long)]
    pub namespace: Option<String>,
    /// The data directory of the running fleetdeck (as given to `serve`).
    #[arg(long, env = "FLEETDECK_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct KubeconfigArgs {
    /// The data directory of the fleetdeck whose kubeconfig to print (as given to `serve`).
    #[arg(long, env = "FLEETDECK_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address the dashboard listens on.
    #[arg(long, env = "FLEETDECK_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
    /// Address the embedded hub's Kubernetes API listens on (HTTPS, bearer token); port 0 picks
    /// a free one. The kubeconfig fleetdeck writes points at it.
    #[arg(long, env = "FLEETDECK_HUB_ADDR", default_value = "127.0.0.1:6443")]
    pub hub_addr: SocketAddr,
    /// A simulated member cluster, `NAME[:key=value,…]` (labels); repeat for more. Without any,
    /// fleetdeck simulates the seeds' demo fleet (member1 environment=canary,order=2; member2
    /// environment=staging; member3 environment=canary,order=1).
    #[arg(long = "member", value_name = "NAME[:LABELS]")]
    pub member: Vec<String>,
    /// A fleet config file (YAML) with members and generated groups, e.g. examples/fleet.yaml;
    /// `--member` flags add to it. Either replaces the demo fleet.
    #[arg(long, env = "FLEETDECK_FLEET_CONFIG", value_name = "FILE")]
    pub fleet_config: Option<PathBuf>,
    /// Start without the demo fleet (when no --member or --fleet-config is given).
    #[arg(long)]
    pub no_demo_fleet: bool,
    /// How long a simulated member's pods take to become ready (e.g. `2s`, `500ms`).
    #[arg(long, env = "FLEETDECK_KUBELET_DELAY", default_value = "2s", value_parser = humantime::parse_duration)]
    pub kubelet_delay: std::time::Duration,
    /// A started cluster not finished after this long marks its update run `UpdateRunStuck`
    /// (spec §9.6; KubeFleet's 5 minutes).
    #[arg(long, env = "FLEETDECK_STUCK_THRESHOLD", default_value = "5m", value_parser = humantime::parse_duration)]
    pub stuck_threshold: std::time::Duration,
    /// Fallback resync of an update run with clusters in flight, deleting or stopping (spec §9.6;
    /// KubeFleet polls every 15 s). Watch events drive the engine; this only bounds a missed one.
    #[arg(long, env = "FLEETDECK_CLUSTER_RESYNC", default_value = "15s", value_parser = humantime::parse_duration)]
    pub cluster_resync: std::time::Duration,
    /// Fallback resync of an update run waiting for an approval (spec §9.6; KubeFleet's 60 s).
    #[arg(long, env = "FLEETDECK_STAGE_RESYNC", default_value = "60s", value_parser = humantime::parse_duration)]
    pub stage_resync: std::time::Duration,
    /// Fallback resync of a placement (KubeFleet requeues every 60 s). Changes of the placement,
    /// its bindings, the member clusters and the objects it can select drive it.
    #[arg(long, env = "FLEETDECK_PLACEMENT_RESYNC", default_value = "60s", value_parser = humantime::parse_duration)]
    pub placement_resync: std::time::Duration,
    /// The release catalogue of upgrade runs (YAML, like examples/release-catalogue.yaml):
    /// which Kubernetes versions and node images exist in which region. Default:
    /// <data-dir>/release-catalogue.yaml, written with the shipped catalogue when missing.
    #[arg(long, env = "FLEETDECK_RELEASE_CATALOGUE", value_name = "FILE")]
    pub release_catalogue: Option<PathBuf>,
    /// Where fleetdeck keeps its state. Defaults to the per-user data directory
    /// (e.g. ~/.local/share/fleetdeck).
    #[arg(long, env = "FLEETDECK_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Keep the embedded hub's and the simulated members' objects in memory only: nothing
    /// survives a restart (the TLS material and the kubeconfig still go to the data directory).
    #[arg(long, env = "FLEETDECK_IN_MEMORY")]
    pub in_memory: bool,
    /// Run against the hub of this kubeconfig (a real hub with deploy/crds installed, or another
    /// fleetdeck's) instead of the embedded one. No members are simulated then: the member agent
    /// reaches each MemberCluster through its kubeconfig Secret (`<member>-kubeconfig` in
    /// --member-secrets-namespace), and engine replicas elect a leader on --leader-lease.
    #[arg(long, env = "FLEETDECK_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context of the hub (default: the file's current context).
    #[arg(long, requires = "kubeconfig")]
    pub context: Option<String>,
    /// `off` serves the dashboard only, leaving placements and runs to other controllers (e.g. a
    /// KubeFleet hub agent, or another fleetdeck's engine).
    #[arg(long, value_enum, default_value_t = EngineMode::On)]
    pub engine: EngineMode,
    /// The Lease (`namespace/name`) that engine replicas on a real hub elect their leader with.
    #[arg(long, default_value = "fleet-system/fleetdeck-engine")]
    pub leader_lease: String,
    /// Where the members' kubeconfig Secrets live on a real hub.
    #[arg(long, default_value = crate::members::kubeconfig_secrets::DEFAULT_NAMESPACE)]
    pub member_secrets_namespace: String,
    /// Log filter: a level (error, warn, info, debug, trace) or a tracing directive list
    /// such as `info,server=debug`.
    #[arg(long, env = "FLEETDECK_LOG", default_value = "info")]
    pub log: String,
    /// Log format.
    #[arg(long, env = "FLEETDECK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Directory with the built dashboard assets (pkg/, favicon). Defaults to
    /// $LEPTOS_SITE_ROOT or target/site.
    #[arg(long)]
    pub site_root: Option<PathBuf>,
    /// Sign-in with an OpenID Connect provider (`--oidc-issuer` and friends).
    #[command(flatten)]
    pub oidc: crate::web::oidc::OidcArgs,
    /// Serve the dashboard over HTTPS with this certificate chain (PEM); needs --tls-key.
    /// The session cookie is then `Secure`.
    #[arg(long, env = "FLEETDECK_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The unencrypted private key (PEM) of --tls-cert.
    #[arg(long, env = "FLEETDECK_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineMode {
    On,
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl ServeArgs {
    /// A fleetdeck that leaves no trace and clashes with nothing: free ports, the given data
    /// directory, the demo fleet with pods ready at once. For tests, probes and benchmarks.
    pub fn ephemeral(data_dir: &std::path::Path) -> Self {
        let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
        ServeArgs {
            addr: any_port,
            hub_addr: any_port,
            member: Vec::new(),
            fleet_config: None,
            no_demo_fleet: false,
            kubelet_delay: std::time::Duration::ZERO,
            stuck_threshold: std::time::Duration::from_secs(5 * 60),
            cluster_resync: std::time::Duration::from_secs(15),
            stage_resync: std::time::Duration::from_secs(60),
            placement_resync: std::time::Duration::from_secs(60),
            release_catalogue: None,
            data_dir: Some(data_dir.to_path_buf()),
            in_memory: false,
            kubeconfig: None,
            context: None,
            engine: EngineMode::On,
            leader_lease: "fleet-system/fleetdeck-engine".into(),
            member_secrets_namespace: crate::members::kubeconfig_secrets::DEFAULT_NAMESPACE.into(),
            log: "warn".into(),
            log_format: LogFormat::Text,
            site_root: None,
            oidc: Default::default(),
            tls_cert: None,
            tls_key: None,
        }
    }

    /// The engine's timings (spec §9.6) as given on the command line.
    pub fn engine_config(&self) -> crate::engine::Config {
        crate::engine::Config {
            timing: app::fleet::staged::run::exec::Timing {
                cluster_poll: self.cluster_resync,
                stage_wait: self.stage_resync,
                stuck_threshold: self.stuck_threshold,
            },
            placement_resync: self.placement_resync,
            release_catalogue: self.release_catalogue.clone(),
            ..crate::engine::Config::default()
        }
    }
}

impl Cli {
    /// The serve options, whichever way they were given.
    pub fn serve_args(&self) -> &ServeArgs {
        match &self.command {
            Some(Command::Serve(args)) => args,
            _ => &self.serve,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_invocation_serves_on_the_default_address() {
        let cli = Cli::try_parse_from(["fleetdeck"]).expect("parses");
        assert_eq!(cli.serve_args().addr, "127.0.0.1:3000".parse().unwrap());
        assert_eq!(cli.serve_args().log, "info");
    }

    #[test]
    fn serve_subcommand_takes_its_own_flags() {
        let cli = Cli::try_parse_from([
            "fleetdeck",
            "serve",
            "--addr",
            "127.0.0.1:9",
            "--data-dir",
            "/tmp/x",
        ])
        .expect("parses");
        let args = cli.serve_args();
        assert_eq!(args.addr.port(), 9);
        assert_eq!(
            args.data_dir.as_deref(),
            Some(std::path::Path::new("/tmp/x"))
        );
    }

    #[test]
    fn kubeconfig_subcommand_takes_a_data_dir() {
        let cli = Cli::try_parse_from(["fleetdeck", "kubeconfig", "--data-dir", "/tmp/x"])
            .expect("parses");
        match cli.command {
            Some(Command::Kubeconfig(args)) => {
                assert_eq!(
                    args.data_dir.as_deref(),
                    Some(std::path::Path::new("/tmp/x"))
                )
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn engine_timings_default_to_kubefleet_constants_and_take_durations() {
        let cli = Cli::try_parse_from(["fleetdeck"]).expect("parses");
        let timing = cli.serve_args().engine_config().timing;
        assert_eq!(timing, app::fleet::staged::run::exec::Timing::default());
        let cli = Cli::try_parse_from([
            "fleetdeck",
            "--stuck-threshold",
            "30s",
            "--cluster-resync",
            "2s",
            "--stage-resync",
            "1m30s",
        ])
        .expect("parses");
        let timing = cli.serve_args().engine_config().timing;
        assert_eq!(timing.stuck_threshold, std::time::Duration::from_secs(30));
        assert_eq!(timing.cluster_poll, std::time::Duration::from_secs(2));
        assert_eq!(timing.stage_wait, std::time::Duration::from_secs(90));
        assert_eq!(
            ServeArgs::ephemeral(std::path::Path::new("/tmp"))
                .engine_config()
                .timing,
            app::fleet::staged::run::exec::Timing::default()
        );
    }

    #[test]
    fn a_context_needs_a_kubeconfig_and_the_engine_can_be_off() {
        let err = Cli::try_parse_from(["fleetdeck", "--context", "hub"]).unwrap_err();
        assert!(err.to_string().contains("--kubeconfig"), "{err}");
        let cli = Cli::try_parse_from([
            "fleetdeck",
            "--kubeconfig",
            "/tmp/k",
            "--context",
            "hub",
            "--engine",
            "off",
        ])
        .expect("parses");
        let args = cli.serve_args();
        assert_eq!(args.context.as_deref(), Some("hub"));
        assert_eq!(args.engine, EngineMode::Off);
        assert_eq!(args.leader_lease, "fleet-system/fleetdeck-engine");
    }

    #[test]
    fn oidc_flags_need_an_issuer_and_keep_kube_apiserver_defaults() {
        let err = Cli::try_parse_from(["fleetdeck", "--oidc-client-id", "fleetdeck"]).unwrap_err();
        assert!(err.to_string().contains("--oidc-issuer"), "{err}");
        let cli = Cli::try_parse_from([
            "fleetdeck",
            "--oidc-issuer",
            "https://dex.example.com",
            "--oidc-client-id",
            "fleetdeck",
            "--oidc-scope",
            "groups",
            "--oidc-scope",
            "email",
        ])
        .expect("parses");
        let oidc = &cli.serve_args().oidc;
        assert_eq!(oidc.issuer.as_deref(), Some("https://dex.example.com"));
        assert_eq!(oidc.username_claim, "email");
        assert_eq!(oidc.groups_claim, "groups");
        assert_eq!(oidc.scopes, vec!["groups", "email"]);
        let bare = Cli::try_parse_from(["fleetdeck"]).expect("parses");
        assert_eq!(
            bare.serve_args().oidc.scopes,
            crate::web::oidc::OidcArgs::default().scopes
        );
    }

    #[test]
    fn a_bad_address_is_rejected_with_the_flag_named() {
        let err = Cli::try_parse_from(["fleetdeck", "--addr", "localhost"]).unwrap_err();
        assert!(err.to_string().contains("--addr"), "{err}");
    }
}
