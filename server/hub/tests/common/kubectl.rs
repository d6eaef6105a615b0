//! The real `/usr/bin/kubectl` (the 1.32 dispatcher, spec §0.1) run against a hub served over
//! plain-HTTP TCP, with a fresh discovery cache per test.

use std::path::{Path, PathBuf};
use std::process::Command;

use hub::Hub;

pub const KUBECTL: &str = "/usr/bin/kubectl";
/// How long one kubectl command may take before `timeout` ends it.
const KUBECTL_TIMEOUT: &str = "120s";

pub struct Kubectl {
    pub kubeconfig: PathBuf,
    pub cache: PathBuf,
}

impl Kubectl {
    /// Runs kubectl on a blocking thread (the hub serves on this test's runtime).
    pub async fn run(&self, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
        self.run_env(args, stdin, &[]).await
    }

    /// Like `run`, with extra environment variables (e.g. `EDITOR`).
    pub async fn run_env(
        &self,
        args: &[&str],
        stdin: Option<&str>,
        env: &[(&str, &str)],
    ) -> (bool, String, String) {
        let (kc, cache) = (self.kubeconfig.clone(), self.cache.clone());
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let stdin = stdin.map(String::from);
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        tokio::task::spawn_blocking(move || {
            // coreutils `timeout` ends a kubectl that hangs (it exits 124), so a stuck hub fails
            // the test instead of holding CI.
            let mut cmd = Command::new("timeout");
            cmd.arg(KUBECTL_TIMEOUT)
                .arg(KUBECTL)
                .arg("--kubeconfig")
                .arg(&kc)
                .arg("--cache-dir")
                .arg(&cache)
                .args(&args)
                .envs(env);
            let out = match stdin {
                Some(input) => {
                    use std::io::Write;
                    let mut child = cmd
                        .stdin(std::process::Stdio::piped())
                        .stdout(std::process::Stdio::piped())
                        .stderr(std::process::Stdio::piped())
                        .spawn()
                        .unwrap();
                    child
                        .stdin
                        .take()
                        .unwrap()
                        .write_all(input.as_bytes())
                        .unwrap();
                    child.wait_with_output().unwrap()
                }
                None => cmd.output().unwrap(),
            };
            let mut stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            if out.status.code() == Some(124) {
                stderr.push_str(&format!("\n(kubectl killed after {KUBECTL_TIMEOUT})"));
            }
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr,
            )
        })
        .await
        .unwrap()
    }

    pub async fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let (success, out, err) = self.run(args, stdin).await;
        assert!(
            success,
            "kubectl {args:?} failed:\nstdout: {out}\nstderr: {err}"
        );
        out
    }
}

pub fn write_kubeconfig(dir: &Path, port: u16) -> PathBuf {
    let path = dir.join("kubeconfig");
    let kc = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: hub\n  cluster:\n    server: http://127.0.0.1:{port}\n\
         users:\n- name: hub\n  user: {{}}\ncontexts:\n- name: hub\n  context:\n    cluster: hub\n    user: hub\n\
         current-context: hub\n"
    );
    std::fs::write(&path, kc).unwrap();
    path
}

pub fn header_columns(out: &str) -> Vec<String> {
    out.lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .map(String::from)
        .collect()
}

/// Serves `hub` on 127.0.0.1 and returns a kubectl pointed at it (None when kubectl is missing).
pub async fn serve(
    hub: &Hub,
    dir: &Path,
) -> Option<(Kubectl, tokio::task::JoinHandle<std::io::Result<()>>)> {
    if !Path::new(KUBECTL).exists() {
        eprintln!("SKIPPED: {KUBECTL} is not installed");
        return None;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.ok()?;
    let port = listener.local_addr().ok()?.port();
    let router = hub.router();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let k = Kubectl {
        kubeconfig: write_kubeconfig(dir, port),
        cache: dir.join("cache"),
    };
    Some((k, server))
}
