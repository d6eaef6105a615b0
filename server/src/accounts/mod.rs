//! The dashboard's accounts in embedded mode (issue 17): people in `<data-dir>/users.yaml`, each
//! with a kubectl token (hashed, as the hub reads it), an argon2 password hash once they have set
//! one, and at most one pending one-time sign-in link (hashed, expiring, used up when redeemed).
//! What a person may do is not here: it is the (Cluster)RoleBinding to a shipped role on the hub,
//! which [`bind`] writes and the hub evaluates on every request the dashboard makes as them.
//!
//! The file is read afresh whenever it is consulted (a sign-in, a password set; it is small), and
//! the hub re-reads it when it changes, so `fleetdeck user add` run beside a running fleetdeck
//! takes effect at once. Writes replace the
//! file atomically (write, then rename); two processes writing in the same instant can lose one
//! write, which an administrator adding people one at a time does not do.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use hub::{token_sha256, SigninLink, UserEntry, UsersFile};

use crate::{Error, Result};

mod commands;
pub use commands::{add_user, bind, new_link, remove_user};

/// The account embedded mode creates on first start, bound to `fleetdeck-admin`.
pub const ADMIN: &str = "admin";
/// Where embedded mode writes the admin's one-time sign-in link (the data directory).
pub const ADMIN_LINK_FILE: &str = "admin-signin-link";
/// Where the running dashboard writes its address, so `fleetdeck user add` can print full links.
pub const DASHBOARD_URL_FILE: &str = "dashboard-url";
/// How long a one-time sign-in link works.
pub const LINK_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// The shortest password accepted (NIST SP 800-63B asks for at least 8; fleetdeck guards a fleet).
pub const MIN_PASSWORD: usize = 10;

/// The shipped roles a person can be added with (`deploy/rbac`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    Viewer,
    Operator,
    Approver,
    Admin,
}

impl Role {
    /// The ClusterRole this role binds to.
    pub fn cluster_role(self) -> &'static str {
        match self {
            Role::Viewer => "fleetdeck-viewer",
            Role::Operator => "fleetdeck-operator",
            Role::Approver => "fleetdeck-approver",
            Role::Admin => "fleetdeck-admin",
        }
    }
}

/// A person the dashboard can act as: their name, groups and the role they were added with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub groups: Vec<String>,
    pub role: Option<String>,
}

impl Person {
    fn of(entry: &UserEntry) -> Person {
        Person {
            name: entry.name.clone(),
            groups: entry.groups.clone(),
            role: entry.role.clone(),
        }
    }
}

/// What adding a person hands out, each shown once: their kubectl token and sign-in link secret.
#[derive(Clone, Debug)]
pub struct NewAccount {
    pub name: String,
    pub kubectl_token: String,
    pub link_token: String,
}

/// Why a password could not be set from a one-time link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetupRefusal {
    /// No pending link has this secret (never issued, already used, or replaced).
    UnknownLink,
    Expired,
    TooShort,
}

/// The users file (or, for tests, users kept in memory).
#[derive(Debug)]
pub struct Accounts {
    /// `None`: kept in memory only.
    path: Option<PathBuf>,
    /// Serialises this process's read-change-write cycles; holds the users when in memory.
    memory: Mutex<UsersFile>,
    /// The file as last read, with what identified that version of it: every signed-in request
    /// asks whether its account still exists, and most find the file unchanged.
    cached: Mutex<Option<(FileVersion, UsersFile)>>,
}

/// What tells one version of the users file from another: it is replaced by a rename (a new
/// inode) whenever fleetdeck writes it, and any other writer changes its time or size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileVersion {
    inode: u64,
    modified: Option<std::time::SystemTime>,
    len: u64,
}

impl FileVersion {
    fn of(path: &Path) -> Option<FileVersion> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path).ok()?;
        Some(FileVersion {
            inode: meta.ino(),
            modified: meta.modified().ok(),
            len: meta.len(),
        })
    }
}

impl Accounts {
    pub fn open(path: &Path) -> Result<Accounts> {
        UsersFile::load(path)?;
        Ok(Accounts {
            path: Some(path.to_path_buf()),
            memory: Mutex::new(UsersFile::default()),
            cached: Mutex::new(None),
        })
    }

    /// Accounts that live only in this process: for tests driving the router.
    pub fn in_memory() -> Accounts {
        Accounts {
            path: None,
            memory: Mutex::new(UsersFile::default()),
            cached: Mutex::new(None),
        }
    }

    /// The users as the file holds them now (read again only when the file changed).
    pub fn snapshot(&self) -> Result<UsersFile> {
        let Some(path) = &self.path else {
            return Ok(self
                .memory
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone());
        };
        let version = FileVersion::of(path);
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        if let (Some(v), Some((seen, users))) = (version, cached.as_ref()) {
            if v == *seen {
                return Ok(users.clone());
            }
        }
        let users = UsersFile::load(path)?;
        *cached = version.map(|v| (v, users.clone()));
        Ok(users)
    }

    /// Reads, changes and writes the file under one lock.
    fn update<T>(&self, change: impl FnOnce(&mut UsersFile) -> Result<T>) -> Result<T> {
        let mut memory = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        let mut file = match &self.path {
            Some(path) => UsersFile::load(path)?,
            None => memory.clone(),
        };
        let out = change(&mut file)?;
        match &self.path {
            Some(path) => write_atomically(path, &file)?,
            None => *memory = file,
        }
        Ok(out)
    }

    /// The person of this name, if there is one.
    pub fn person(&self, name: &str) -> Result<Option<Person>> {
        Ok(self
            .snapshot()?
            .users
            .iter()
            .find(|u| u.name == name)
            .map(Person::of))
    }

    /// Adds a person with a fresh kubectl token and a one-time sign-in link.
    pub fn add(&self, name: &str, role: Role, namespace: Option<&str>) -> Result<NewAccount> {
        check_name(name)?;
        if let Some(ns) = namespace {
            check_name(ns)?;
        }
        let kubectl_token = secret()?;
        let link_token = secret()?;
        let link = link_for(&link_token)?;
        self.update(|file| {
            if file.users.iter().any(|u| u.name == name) {
                return Err(Error::Accounts(format!(
                    "a user named {name:?} already exists in the users file"
                )));
            }
            let mut entry = UserEntry::new(name, token_sha256(&kubectl_token));
            entry.role = Some(role.cluster_role().into());
            entry.namespace = namespace.map(str::to_string);
            entry.signin_link = Some(link);
            file.users.push(entry);
            Ok(())
        })?;
        Ok(NewAccount {
            name: name.into(),
            kubectl_token,
            link_token,
        })
    }

    /// A new one-time link for `name`, replacing any pending one; the secret is returned once.
    pub fn issue_link(&self, name: &str) -> Result<String> {
        let token = secret()?;
        let link = link_for(&token)?;
        self.update(|file| {
            let entry = file
                .users
                .iter_mut()
                .find(|u| u.name == name)
                .ok_or_else(|| Error::Accounts(format!("no user named {name:?}")))?;
            entry.signin_link = Some(link);
            Ok(())
        })?;
        Ok(token)
    }

    /// Removes `name` from the users file: their kubectl token stops working (the hub re-reads
    /// the file) and their dashboard sessions end at their next request. The entry removed.
    pub fn remove(&self, name: &str) -> Result<UserEntry> {
        if name == ADMIN {
            return Err(Error::Accounts(
                "admin is fleetdeck's first account and cannot be removed; give it a new password with `fleetdeck user link admin`".into(),
            ));
        }
        self.update(|file| {
            let at = file
                .users
                .iter()
                .position(|u| u.name == name)
                .ok_or_else(|| Error::Accounts(format!("no user named {name:?}")))?;
            Ok(file.users.remove(at))
        })
    }

    /// Embedded mode's first start: the `admin` account, and while it has no password yet a
    /// fresh one-time link (the previous one's secret was shown once and is not kept).
    pub fn ensure_admin(&self) -> Result<Option<String>> {
        let existing = self.snapshot()?;
        match existing.users.iter().find(|u| u.name == ADMIN) {
            None => Ok(Some(self.add(ADMIN, Role::Admin, None)?.link_token)),
            Some(u) if u.password_hash.is_none() => Ok(Some(self.issue_link(ADMIN)?)),
            Some(_) => Ok(None),
        }
    }

    /// Sets the password of the person whose pending link has this secret, and uses the link up.
    /// Hashing is slow on purpose: call from a blocking task.
    pub fn redeem_link(
        &self,
        token: &str,
        password: &str,
    ) -> Result<std::result::Result<Person, SetupRefusal>> {
        if password.chars().count() < MIN_PASSWORD {
            return Ok(Err(SetupRefusal::TooShort));
        }
        let hash = token_sha256(token);
        let hashed_password = hash_password(password)?;
        self.update(|file| {
            let Some(entry) = file.users.iter_mut().find(|u| {
                u.signin_link
                    .as_ref()
                    .is_some_and(|l| l.token_sha256 == hash)
            }) else {
                return Ok(Err(SetupRefusal::UnknownLink));
            };
            let expired = entry
                .signin_link
                .as_ref()
                .is_none_or(|l| l.expires_at <= unix_now());
            // Used up either way: an expired link is no use to anyone.
            entry.signin_link = None;
            if expired {
                return Ok(Err(SetupRefusal::Expired));
            }
            entry.password_hash = Some(hashed_password);
            Ok(Ok(Person::of(entry)))
        })
    }

    /// The person if `password` is theirs. Unknown names cost the same hashing as known ones, so
    /// the time taken does not tell which names exist. Call from a blocking task.
    pub fn verify(&self, name: &str, password: &str) -> Result<Option<Person>> {
        let file = self.snapshot()?;
        let entry = file.users.iter().find(|u| u.name == name);
        let stored = entry
            .and_then(|u| u.password_hash.clone())
            .unwrap_or_else(|| dummy_hash().to_string());
        let ok = PasswordHash::new(&stored)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false);
        Ok(match entry {
            Some(u) if ok && u.password_hash.is_some() => Some(Person::of(u)),
            _ => None,
        })
    }
}

/// The sign-in link a person opens to set their password.
pub fn link_url(dashboard: &str, token: &str) -> String {
    format!(
        "{}/signin/setup?token={token}",
        dashboard.trim_end_matches('/')
    )
}

/// Names become RBAC subjects and binding names: lower-case DNS-label characters only, and never
/// the `system:` identities the hub reserves.
fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(Error::Accounts(format!(
            "{name:?} is not a valid name: use lower-case letters, digits, '-' and '.', starting with a letter or digit, at most 63 characters"
        )))
    }
}

/// 32 random bytes, URL-safe base64: kubectl tokens and link secrets.
fn secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Accounts(format!("no randomness for a secret: {e}")))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

fn link_for(token: &str) -> Result<SigninLink> {
    let ttl = i64::try_from(LINK_TTL.as_secs()).unwrap_or(i64::MAX);
    Ok(SigninLink {
        token_sha256: token_sha256(token),
        expires_at: unix_now().saturating_add(ttl),
    })
}

fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| Error::Accounts(format!("no randomness for a salt: {e}")))?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| Error::Accounts(format!("cannot encode a salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Accounts(format!("cannot hash the password: {e}")))
}

/// A hash no password matches, verified against for unknown names.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("no one's password, never matched").unwrap_or_default())
}

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn write_atomically(path: &Path, file: &UsersFile) -> Result<()> {
    let text = serde_saphyr::to_string(file)
        .map_err(|e| Error::Accounts(format!("cannot write the users file: {e}")))?;
    let tmp = path.with_extension("yaml.tmp");
    let fail = |e: std::io::Error| Error::Accounts(format!("cannot write {}: {e}", path.display()));
    write_private(&tmp, &text).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}

/// The users file holds password hashes: readable by its owner only.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

/// Writes a file only its owner can read (the admin's sign-in link).
pub fn write_secret_file(path: &Path, text: &str) -> Result<()> {
    write_private(path, text)
        .map_err(|e| Error::Accounts(format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dashboard keeps the file as read until it changes; another process's change (here a
    /// second `Accounts`, as `fleetdeck user add|remove` would be) is seen at the next look.
    #[test]
    fn the_users_file_is_read_again_only_when_it_changed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("users.yaml");
        let dashboard = Accounts::open(&path).expect("open");
        let cli = Accounts::open(&path).expect("open");
        cli.add("alice", Role::Viewer, None).expect("added");
        assert!(dashboard.person("alice").expect("read").is_some());
        let version = FileVersion::of(&path);
        assert_eq!(
            dashboard
                .cached
                .lock()
                .expect("cache")
                .as_ref()
                .map(|(v, _)| *v),
            version,
            "the read is kept with the file's version"
        );
        cli.remove("alice").expect("removed");
        assert!(
            dashboard.person("alice").expect("read").is_none(),
            "a removal by another process is seen"
        );
    }

    #[test]
    fn a_link_sets_the_password_once_and_then_the_password_signs_in() {
        let accounts = Accounts::in_memory();
        let added = accounts
            .add("alice", Role::Approver, None)
            .expect("alice is added");
        assert_eq!(
            accounts
                .verify("alice", "correct horse battery")
                .expect("verify"),
            None,
            "no password before the link is used"
        );
        let alice = accounts
            .redeem_link(&added.link_token, "correct horse battery")
            .expect("redeem")
            .expect("the link works once");
        assert_eq!(alice.role.as_deref(), Some("fleetdeck-approver"));
        assert_eq!(
            accounts
                .redeem_link(&added.link_token, "another long password")
                .expect("redeem"),
            Err(SetupRefusal::UnknownLink),
            "the link is used up"
        );
        let signed_in = accounts
            .verify("alice", "correct horse battery")
            .expect("verify");
        assert_eq!(signed_in.map(|p| p.name), Some("alice".to_string()));
        assert_eq!(
            accounts.verify("alice", "wrong password!").expect("verify"),
            None
        );
        assert_eq!(
            accounts
                .verify("bob", "correct horse battery")
                .expect("verify"),
            None
        );
    }

    #[test]
    fn short_passwords_expired_links_and_bad_names_are_refused() {
        let accounts = Accounts::in_memory();
        let added = accounts
            .add("bob", Role::Viewer, Some("team-a"))
            .expect("add");
        assert_eq!(
            accounts
                .redeem_link(&added.link_token, "short")
                .expect("redeem"),
            Err(SetupRefusal::TooShort)
        );
        accounts
            .update(|f| {
                if let Some(l) = f.users[0].signin_link.as_mut() {
                    l.expires_at = unix_now() - 1;
                }
                Ok(())
            })
            .expect("age the link");
        assert_eq!(
            accounts
                .redeem_link(&added.link_token, "long enough password")
                .expect("redeem"),
            Err(SetupRefusal::Expired)
        );
        assert!(
            accounts.add("bob", Role::Viewer, None).is_err(),
            "names are unique"
        );
        assert!(accounts.add("system:admin", Role::Admin, None).is_err());
        assert!(accounts.add("Eve", Role::Admin, None).is_err());
    }

    #[test]
    fn the_users_file_keeps_hashes_only_and_is_reread_when_changed() {
        let dir =
            std::env::temp_dir().join(format!("fleetdeck-accounts-{}", secret().expect("random")));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("users.yaml");
        let accounts = Accounts::open(&path).expect("open");
        let link = accounts
            .ensure_admin()
            .expect("admin")
            .expect("a first link");
        let text = std::fs::read_to_string(&path).expect("written");
        assert!(!text.contains(&link), "the link secret is not stored");
        assert!(text.contains("fleetdeck-admin"));
        // Another process (`fleetdeck user add`) adds someone: this one sees them.
        Accounts::open(&path)
            .expect("open")
            .add("carol", Role::Operator, None)
            .expect("add");
        assert!(accounts.person("carol").expect("read").is_some());
        std::fs::remove_dir_all(&dir).ok();
    }
}
