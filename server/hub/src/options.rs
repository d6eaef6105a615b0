//! How a hub is sized: the watch history it keeps and the request bodies it accepts.

/// How long a watch waits for a client that stopped reading, by default.
pub const SLOW_WATCH_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// How long a client may take to send a request's body, by default.
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// kube-apiserver's request body limit (3 MiB).
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// Sizing of one hub; the default is kube-apiserver's body limit and a 10,000-event history.
pub struct Options {
    /// How many events the watch history keeps; older resourceVersions get 410 Expired, and so
    /// does a watch that falls further behind (it never blocks writers).
    pub history: usize,
    /// The most memory the history may hold (estimated). A fleet of 10,000 members writes run and
    /// placement statuses of tens of MB each, so a count alone would keep gigabytes alive.
    pub history_bytes: usize,
    /// The largest request body accepted (larger ones get 413). kube-apiserver's 3 MiB by default.
    pub max_body: usize,
    /// The most the SQLite database may grow to, in bytes (etcd's `--quota-backend-bytes`): past
    /// it writes fail with a "database is full" Status, and succeed again once deletions free
    /// space. `None`: only the disk limits it.
    pub quota_bytes: Option<u64>,
    /// How long a watch may wait for its client to read before the hub closes it (kube-apiserver
    /// also closes unresponsive watchers): a client that stopped reading holds no more than its
    /// buffered lines, and when it comes back its resourceVersion may have expired (410).
    pub slow_watch_grace: std::time::Duration,
    /// How long a request's whole body may take to arrive (counted from when the hub starts
    /// reading it) before the hub answers 408 and drops the connection: a client that sends
    /// headers and then trickles or stops holds a handler and a connection no longer than this.
    /// The HTTP layer's header timeout stops at the end of the headers.
    pub body_timeout: std::time::Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            history: 10_000,
            history_bytes: 256 << 20,
            max_body: MAX_BODY,
            quota_bytes: None,
            slow_watch_grace: SLOW_WATCH_GRACE,
            body_timeout: BODY_TIMEOUT,
        }
    }
}
