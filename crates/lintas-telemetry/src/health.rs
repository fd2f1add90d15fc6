//! Readiness by component, and the shutdown switch that overrides it.
//!
//! A role registers each dependency it cannot serve without (`kafka`, `clickhouse`, ...) and
//! reports changes as they happen (a producer's queue full, a failed insert, a rebalance). The
//! process is ready when every registered component is ready and shutdown has not begun. Liveness
//! is not tracked here: a process that can answer `/healthz` is alive, and restarting it because
//! Kafka is down would only add a restart storm to the outage.
//!
//! Use one [`Health`] per process; in `lintas run` the roles share it and register distinct
//! component names (the `lintas_ready` gauge is keyed by component only).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use ::metrics::gauge;

use crate::metrics::metric_names;

/// The last reported state of one component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentStatus {
    /// Whether the component can do its work now.
    pub ready: bool,
    /// Why it is not ready (or any note the role gave), for `/readyz` and the logs.
    pub reason: Option<String>,
}

/// A consistent view of the readiness state, as served by `/readyz`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthSnapshot {
    /// True when every component is ready and shutdown has not begun.
    pub ready: bool,
    /// True once [`Health::begin_shutdown`] was called.
    pub shutting_down: bool,
    /// Every registered component, ordered by name.
    pub components: BTreeMap<&'static str, ComponentStatus>,
}

#[derive(Debug, Default)]
struct HealthState {
    components: RwLock<BTreeMap<&'static str, ComponentStatus>>,
    shutting_down: AtomicBool,
}

/// Shared readiness state of a process; clones are cheap and see the same state.
#[derive(Clone, Debug)]
pub struct Health {
    state: Arc<HealthState>,
}

impl Default for Health {
    fn default() -> Self {
        Self::new()
    }
}

impl Health {
    /// Creates a state with no components and shutdown not begun (ready).
    #[must_use]
    pub fn new() -> Self {
        gauge!(metric_names::SHUTTING_DOWN).set(0.0);
        Self {
            state: Arc::new(HealthState::default()),
        }
    }

    /// Registers a component as not ready (reason `starting`) unless it is already known.
    ///
    /// Register every component before serving `/readyz`: a component nobody registered cannot
    /// hold readiness back, so a role would otherwise look ready before it connected.
    pub fn register(&self, component: &'static str) {
        let mut components = self.write_components();
        if components.contains_key(component) {
            return;
        }
        components.insert(
            component,
            ComponentStatus {
                ready: false,
                reason: Some("starting".to_owned()),
            },
        );
        drop(components);
        gauge!(metric_names::READY, "component" => component).set(0.0);
        tracing::debug!(component, "component registered");
    }

    /// Records whether `component` is ready, registering it on first use.
    ///
    /// Transitions are logged (ready at info, lost readiness at warn with the reason); repeating
    /// the same state logs nothing, so roles may call this on every poll.
    pub fn set_ready(&self, component: &'static str, ready: bool, reason: Option<String>) {
        let mut components = self.write_components();
        let was_ready = components.get(component).map(|status| status.ready);
        let reason_for_log = reason.clone();
        components.insert(component, ComponentStatus { ready, reason });
        drop(components);

        gauge!(metric_names::READY, "component" => component).set(if ready { 1.0 } else { 0.0 });
        match (was_ready, ready) {
            (Some(true), true) | (Some(false), false) => {}
            (_, true) => tracing::info!(component, "component ready"),
            (Some(true), false) if !self.is_shutting_down() => tracing::warn!(
                component,
                reason = reason_for_log.as_deref().unwrap_or("unspecified"),
                "component not ready"
            ),
            (_, false) => tracing::info!(
                component,
                reason = reason_for_log.as_deref().unwrap_or("unspecified"),
                "component not ready"
            ),
        }
    }

    /// Makes readiness false from now on, whatever the components report, so Kubernetes removes
    /// the pod from its endpoints while the role drains. Liveness is unaffected. Idempotent.
    pub fn begin_shutdown(&self) {
        if self.state.shutting_down.swap(true, Ordering::SeqCst) {
            return;
        }
        gauge!(metric_names::SHUTTING_DOWN).set(1.0);
        tracing::info!("shutdown begun, readiness now false");
    }

    /// True once [`Health::begin_shutdown`] was called.
    #[must_use]
    pub fn is_shutting_down(&self) -> bool {
        self.state.shutting_down.load(Ordering::SeqCst)
    }

    /// True when every registered component is ready and shutdown has not begun. With no
    /// component registered it is true (nothing to wait for) until shutdown.
    #[must_use]
    pub fn is_ready(&self) -> bool {
        !self.is_shutting_down() && self.read_components().values().all(|status| status.ready)
    }

    /// The current state of every component, read under one lock so the body of `/readyz` agrees
    /// with its status code.
    #[must_use]
    pub fn snapshot(&self) -> HealthSnapshot {
        let components = self.read_components().clone();
        let shutting_down = self.is_shutting_down();
        let ready = !shutting_down && components.values().all(|status| status.ready);
        HealthSnapshot {
            ready,
            shutting_down,
            components,
        }
    }

    // The maps hold plain values updated in one statement, so a writer that panicked cannot have
    // left them half-updated: recovering from poisoning is sound.
    fn read_components(
        &self,
    ) -> std::sync::RwLockReadGuard<'_, BTreeMap<&'static str, ComponentStatus>> {
        self.state
            .components
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write_components(
        &self,
    ) -> std::sync::RwLockWriteGuard<'_, BTreeMap<&'static str, ComponentStatus>> {
        self.state
            .components
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_health_without_components_is_ready() {
        assert!(Health::new().is_ready());
    }

    #[test]
    fn readiness_is_true_when_every_component_is_ready() {
        let health = Health::new();
        health.set_ready("kafka", true, None);
        health.set_ready("clickhouse", true, None);

        assert!(health.is_ready());
    }

    #[test]
    fn readiness_is_false_when_any_component_is_not_ready() {
        let health = Health::new();
        health.set_ready("kafka", true, None);
        health.set_ready("clickhouse", false, Some("connection refused".to_owned()));

        assert!(!health.is_ready());
        let snapshot = health.snapshot();
        assert!(!snapshot.ready);
        assert_eq!(
            snapshot.components["clickhouse"].reason.as_deref(),
            Some("connection refused")
        );
    }

    #[test]
    fn a_registered_component_holds_readiness_back_until_it_reports_ready() {
        let health = Health::new();
        health.register("kafka");
        assert!(!health.is_ready());

        health.set_ready("kafka", true, None);
        health.register("kafka");
        assert!(
            health.is_ready(),
            "registering again must not reset the state"
        );
    }

    #[test]
    fn readiness_recovers_when_the_component_recovers() {
        let health = Health::new();
        health.set_ready("kafka", false, Some("queue full".to_owned()));
        health.set_ready("kafka", true, None);

        assert!(health.is_ready());
        assert_eq!(health.snapshot().components["kafka"].reason, None);
    }

    #[test]
    fn readiness_is_false_after_begin_shutdown_even_with_every_component_ready() {
        let health = Health::new();
        health.set_ready("kafka", true, None);
        let clone_held_by_a_role = health.clone();

        clone_held_by_a_role.begin_shutdown();
        clone_held_by_a_role.begin_shutdown();

        assert!(!health.is_ready());
        assert!(health.is_shutting_down());
        let snapshot = health.snapshot();
        assert!(!snapshot.ready && snapshot.shutting_down);
        health.set_ready("kafka", true, None);
        assert!(!health.is_ready(), "components cannot undo shutdown");
    }
}
