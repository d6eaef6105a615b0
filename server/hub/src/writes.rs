//! Who wrote what: every successful write that came through authentication (a kubectl user, or
//! the console acting as a person) is announced with its user, as kube-apiserver's audit log
//! would hold it. The hub itself does nothing with them; fleetdeck turns the ones that matter
//! (approvals, run changes) into Events naming the person.

use tokio::sync::broadcast;

/// How many announcements a slow listener may fall behind before it misses some.
const BACKLOG: usize = 1024;

/// One write the hub accepted and stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Write {
    /// Who the write ran as (after impersonation), and their groups.
    pub user: String,
    pub groups: Vec<String>,
    /// The hub's own callers acting as `user` (the console), rather than the person's own
    /// credentials (kubectl).
    pub impersonated: bool,
    /// The RBAC verb: create, update, patch or delete.
    pub verb: String,
    pub group: String,
    pub resource: String,
    pub subresource: String,
    pub namespace: String,
    pub name: String,
}

/// The name of an object a `POST` created: the URL does not carry it.
#[derive(Clone, Debug)]
pub(crate) struct CreatedName(pub String);

/// The hub's announcements of writes.
#[derive(Clone)]
pub(crate) struct Writes(broadcast::Sender<Write>);

impl Default for Writes {
    fn default() -> Self {
        Writes(broadcast::channel(BACKLOG).0)
    }
}

impl Writes {
    pub fn subscribe(&self) -> broadcast::Receiver<Write> {
        self.0.subscribe()
    }

    /// Announces `write`; with nobody listening it is simply dropped.
    pub fn announce(&self, write: Write) {
        if self.0.receiver_count() > 0 {
            let _ = self.0.send(write);
        }
    }
}
