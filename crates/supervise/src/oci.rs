//! `listenerPath`: hand the notification fd to an OCI seccomp agent, as the OCI runtime
//! spec says (config-linux.md, "seccomp"): one message on the agent's Unix socket with
//! the container process state as JSON and the fd attached (SCM_RIGHTS).

use serde_json::json;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use syscage_runtime::Supervisor;

pub struct Agent {
    pub path: String,
    pub metadata: Option<String>,
    pub container_id: String,
    pub bundle: String,
    /// The container's annotations, in the state as runc and crun send them (the agent
    /// reads `run.syscage.report` and `run.syscage.learn` there).
    pub annotations: serde_json::Map<String, serde_json::Value>,
}

impl Agent {
    /// The state message: `containerProcessState` of the OCI runtime spec.
    pub fn state(&self, pid: i32) -> serde_json::Value {
        json!({
            "ociVersion": "1.0.2",
            "fds": ["seccompFd"],
            "pid": pid,
            "metadata": self.metadata.clone().unwrap_or_default(),
            "state": {
                "ociVersion": "1.0.2",
                "id": self.container_id,
                "status": "creating",
                "pid": pid,
                "bundle": self.bundle,
                "annotations": self.annotations,
            }
        })
    }
}

impl Supervisor for Agent {
    fn listener(
        &mut self,
        fd: OwnedFd,
        host_pid: i32,
    ) -> Result<(), syscage_runtime::parent::SupervisorError> {
        let body = self.state(host_pid).to_string();
        syscage_runtime::sys::send_fd(Path::new(&self.path), body.as_bytes(), fd.as_fd()).map_err(
            |(step, e)| {
                let what = match step {
                    "connect" => "connect to the agent",
                    "send" => "send the notification fd",
                    other => other,
                };
                format!("listenerPath `{}`: cannot {what}: {}", self.path, e.desc())
            },
        )?;
        // The agent has its copy; syscage keeps none, so the agent alone answers.
        Ok(())
    }
}
