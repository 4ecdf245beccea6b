//! `listenerPath`: hand the notification fd to an OCI seccomp agent, as the OCI runtime
//! spec says (config-linux.md, "seccomp"): one message on the agent's Unix socket with
//! the container process state as JSON and the fd attached (SCM_RIGHTS).

use serde_json::json;
use std::io::IoSlice;
use std::os::fd::{AsRawFd, OwnedFd};
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
        use nix::sys::socket::{
            connect, sendmsg, socket, AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType,
            UnixAddr,
        };
        let fail = |what: &str, e: nix::errno::Errno| {
            format!("listenerPath `{}`: cannot {what}: {}", self.path, e.desc())
        };
        let sock = socket(
            AddressFamily::Unix,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
        .map_err(|e| fail("create a socket", e))?;
        let addr = UnixAddr::new(self.path.as_str()).map_err(|e| fail("use the path", e))?;
        connect(sock.as_raw_fd(), &addr).map_err(|e| fail("connect to the agent", e))?;
        let body = self.state(host_pid).to_string();
        let iov = [IoSlice::new(body.as_bytes())];
        let fds = [fd.as_raw_fd()];
        sendmsg::<()>(
            sock.as_raw_fd(),
            &iov,
            &[ControlMessage::ScmRights(&fds)],
            MsgFlags::MSG_NOSIGNAL,
            None,
        )
        .map_err(|e| fail("send the notification fd", e))?;
        // The agent has its copy; syscage keeps none, so the agent alone answers.
        Ok(())
    }
}
