//! Stopping one of the test command's servers for a test (`$LINTAS_TEST_SERVICES`, i.e.
//! scripts/services.sh): a test that does so must be the only test in its binary.

use std::process::Command;

/// Runs `$LINTAS_TEST_SERVICES <action>`, e.g. `kafka-stop`.
pub fn services(action: &str) -> anyhow::Result<()> {
    let script = std::env::var("LINTAS_TEST_SERVICES").map_err(|_| {
        anyhow::anyhow!(
            "LINTAS_TEST_SERVICES is not set: source target/services/env after ./scripts/services.sh start"
        )
    })?;
    let status = Command::new(&script).arg(action).status()?;
    anyhow::ensure!(status.success(), "{script} {action} failed: {status}");
    Ok(())
}

/// A stopped server (`kafka` or `clickhouse`), resumed when dropped unless resumed already, so
/// that later test binaries find it running even when an assertion fails.
#[derive(Debug)]
pub struct Outage {
    service: &'static str,
    stopped: bool,
}

impl Outage {
    /// Stops `service` (`<service>-stop`).
    pub fn stop(service: &'static str) -> anyhow::Result<Self> {
        services(&format!("{service}-stop"))?;
        Ok(Self {
            service,
            stopped: true,
        })
    }

    /// Resumes it (`<service>-resume`).
    pub fn resume(&mut self) -> anyhow::Result<()> {
        services(&format!("{}-resume", self.service))?;
        self.stopped = false;
        Ok(())
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        if self.stopped
            && let Err(error) = services(&format!("{}-resume", self.service))
        {
            eprintln!("could not resume {}: {error}", self.service);
        }
    }
}
