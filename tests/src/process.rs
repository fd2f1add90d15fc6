//! The `lintas` binary as a child process, for tests that kill a role with SIGKILL and restart it.
//!
//! The binary is built once per test process with the same cargo that runs the tests, so a test
//! never runs a stale binary left by an earlier build. It is built with the feature set of the
//! test command (`--workspace --all-features`): under `scripts/test.sh` the test build has just
//! made it and the call is a no-op, where `-p lintas` unified other features and rebuilt
//! `lintas` and some of its dependencies in every cold CI run.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// `cargo` arguments that build the `lintas` binary as `cargo test --workspace --all-features`
/// does.
const BUILD_ARGS: &[&str] = &[
    "build",
    "--workspace",
    "--all-features",
    "--bin",
    "lintas",
    "--quiet",
];

/// Path of a freshly built `lintas` binary (debug profile, same target dir as the tests).
pub fn lintas_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut command = Command::new(cargo);
        command.args(BUILD_ARGS);
        // cargo sets these for the test process, not for the shell that ran `cargo test`. Build
        // scripts that watch them (ring's `rerun-if-env-changed=CARGO_MANIFEST_DIR`, ...) would
        // see a change, and this build and the next `cargo test` would each rebuild ring and
        // everything above it, 30 s apiece.
        for (key, _) in std::env::vars_os() {
            if is_set_by_cargo_for_tests(&key.to_string_lossy()) {
                command.env_remove(key);
            }
        }
        let status = command
            .status()
            .unwrap_or_else(|error| panic!("could not run cargo {BUILD_ARGS:?}: {error}"));
        assert!(status.success(), "cargo {BUILD_ARGS:?} failed: {status}");
        // Test binaries live in <target>/<profile>/deps; the `lintas` binary in <target>/<profile>.
        let exe = std::env::current_exe().unwrap_or_else(|error| panic!("current_exe: {error}"));
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .unwrap_or_else(|| panic!("unexpected test binary path {}", exe.display()));
        let bin = profile_dir.join("lintas");
        assert!(bin.is_file(), "{} was not built", bin.display());
        bin
    })
}

fn is_set_by_cargo_for_tests(key: &str) -> bool {
    const EXACT: &[&str] = &[
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_MANIFEST_LINKS",
        "CARGO_CRATE_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "OUT_DIR",
    ];
    EXACT.contains(&key) || key.starts_with("CARGO_PKG_") || key.starts_with("CARGO_BIN_")
}

/// A running `lintas <args>` child, killed (SIGKILL) when dropped so a failing test leaves no
/// process behind.
#[derive(Debug)]
pub struct LintasProcess {
    child: Option<Child>,
    name: String,
}

impl LintasProcess {
    /// Starts `lintas <args>` with `env` added to the test's environment. Output goes to the
    /// test's stderr, so a failure shows the role's logs.
    pub fn spawn(name: &str, args: &[&str], env: &[(String, String)]) -> anyhow::Result<Self> {
        let mut command = Command::new(lintas_bin());
        command
            .args(args)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("LINTAS__TELEMETRY__LOG_FORMAT", "pretty")
            .stdin(Stdio::null());
        let child = command
            .spawn()
            .map_err(|error| anyhow::anyhow!("could not start lintas {name}: {error}"))?;
        Ok(Self {
            child: Some(child),
            name: name.to_owned(),
        })
    }

    /// Process id, for signals.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// The exit status if the process has ended (it is then reaped), `None` while it runs.
    pub fn try_wait(&mut self) -> anyhow::Result<Option<std::process::ExitStatus>> {
        match self.child.as_mut() {
            Some(child) => Ok(child.try_wait()?),
            None => Ok(None),
        }
    }

    /// SIGKILL: no shutdown code runs, as when a node dies.
    pub fn kill9(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }

    /// SIGTERM, then waits up to `deadline` for a clean exit; returns whether it exited 0.
    pub fn terminate(&mut self, deadline: std::time::Duration) -> anyhow::Result<bool> {
        let Some(mut child) = self.child.take() else {
            return Ok(false);
        };
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()?;
        anyhow::ensure!(status.success(), "kill -TERM {} failed", self.name);
        let started = std::time::Instant::now();
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(status.success());
            }
            if started.elapsed() > deadline {
                child.kill()?;
                child.wait()?;
                anyhow::bail!(
                    "lintas {} did not exit within {deadline:?} of SIGTERM",
                    self.name
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

impl Drop for LintasProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Best effort: the test already failed if the process is still here.
            let _kill = child.kill();
            let _wait = child.wait();
        }
    }
}
