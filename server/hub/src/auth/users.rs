//! Who a bearer token belongs to. Users come from a users file in the data directory, which keeps
//! only SHA-256 hashes of their tokens; the embedded kubeconfig's token is the admin
//! (`system:masters`), so kubectl's `hub` context and the seeds work as before.
//!
//! The same file holds what the dashboard's sign-in needs (issue 17): each person's argon2
//! password hash and their pending one-time sign-in link (hashed, expiring). The hub re-reads the
//! file when it changes, so `fleetdeck user add` takes effect without a restart.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::UserInfo;
use crate::status::{Error, Result};

/// The group kube-apiserver lets do anything, without RBAC.
pub const MASTERS: &str = "system:masters";
/// Every authenticated user is in it (bootstrap roles bind discovery and self-reviews to it).
pub const AUTHENTICATED: &str = "system:authenticated";
/// The name the embedded kubeconfig's token authenticates as (kubeadm's admin user is named so).
pub const ADMIN_USER: &str = "kubernetes-admin";

/// `users.yaml`: `users: [{name, groups, tokenSha256}]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersFile {
    #[serde(default)]
    pub users: Vec<UserEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserEntry {
    pub name: String,
    #[serde(default)]
    pub groups: Vec<String>,
    /// Lower-case hex SHA-256 of the bearer token; the token itself is never stored.
    pub token_sha256: String,
    /// The shipped role the person was added with (`fleetdeck-approver`), shown beside their
    /// name; what they may do is decided by the bindings on the hub, not by this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The namespace of their RoleBinding, when they were added for one namespace only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The argon2 PHC string of their dashboard password, once they have set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// Their pending one-time sign-in link, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signin_link: Option<SigninLink>,
}

/// A one-time sign-in link: only the SHA-256 of its secret is kept, with its expiry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SigninLink {
    pub token_sha256: String,
    /// Seconds since the Unix epoch after which the link no longer works.
    pub expires_at: i64,
}

impl UserEntry {
    /// A person with a kubectl token (hashed) and nothing else yet.
    pub fn new(name: &str, token_sha256: String) -> UserEntry {
        UserEntry {
            name: name.into(),
            groups: Vec::new(),
            token_sha256,
            role: None,
            namespace: None,
            password_hash: None,
            signin_link: None,
        }
    }
}

impl UsersFile {
    /// Reads the file; a missing file means no users besides the admin.
    pub fn load(path: &Path) -> Result<UsersFile> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                Self::parse(&text).map_err(|e| Error::Users(format!("{}: {e}", path.display())))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(UsersFile::default()),
            Err(e) => Err(Error::Users(format!("{}: {e}", path.display()))),
        }
    }

    pub fn parse(text: &str) -> std::result::Result<UsersFile, String> {
        let file: UsersFile = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
        for u in &file.users {
            if u.name.is_empty() {
                return Err("a user has no name".into());
            }
            if decode_hex(&u.token_sha256).is_none() {
                return Err(format!(
                    "user {:?}: tokenSha256 must be 64 hex digits",
                    u.name
                ));
            }
        }
        Ok(file)
    }
}

/// The hex SHA-256 of a token, as `tokenSha256` holds it.
pub fn token_sha256(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_hex(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// A token's SHA-256 and its user.
type Known = ([u8; 32], UserInfo);

/// Bearer tokens (as hashes) and the users they stand for.
#[derive(Clone, Debug)]
pub struct Authenticator {
    users: Vec<Known>,
    /// The users file this was read from, re-read when it changes (see [`Self::watching`]).
    source: Option<Arc<Source>>,
}

#[derive(Debug)]
struct Source {
    path: PathBuf,
    admin: ([u8; 32], UserInfo),
    /// The file's modification time and length when last read, and what it held then.
    seen: Mutex<(Stamp, Vec<Known>)>,
}

impl Authenticator {
    /// Only the admin token: what `router_with_token` always meant.
    pub fn admin(token: &str) -> Authenticator {
        Authenticator {
            users: vec![Self::admin_entry(token)],
            source: None,
        }
    }

    fn admin_entry(token: &str) -> ([u8; 32], UserInfo) {
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        (
            hash,
            UserInfo {
                name: ADMIN_USER.into(),
                groups: vec![MASTERS.into(), AUTHENTICATED.into()],
            },
        )
    }

    /// The admin token and the users of the file at `path`, which is re-read whenever its
    /// modification time changes: users added while the hub runs can use kubectl at once.
    pub fn watching(admin_token: &str, path: &Path) -> Result<Authenticator> {
        let admin = Self::admin_entry(admin_token);
        let file = UsersFile::load(path)?;
        let users = Self::admin(admin_token).with_users(&file)?.users;
        let source = Source {
            path: path.to_path_buf(),
            admin,
            seen: Mutex::new((modified(path), users.clone())),
        };
        Ok(Authenticator {
            users,
            source: Some(Arc::new(source)),
        })
    }

    /// Adds the users of a users file; every one is also in `system:authenticated`.
    pub fn with_users(mut self, file: &UsersFile) -> Result<Authenticator> {
        for u in &file.users {
            let hash = decode_hex(&u.token_sha256).ok_or_else(|| {
                Error::Users(format!(
                    "user {:?}: tokenSha256 must be 64 hex digits",
                    u.name
                ))
            })?;
            let mut groups = u.groups.clone();
            if !groups.iter().any(|g| g == AUTHENTICATED) {
                groups.push(AUTHENTICATED.into());
            }
            self.users.push((
                hash,
                UserInfo {
                    name: u.name.clone(),
                    groups,
                },
            ));
        }
        Ok(self)
    }

    /// The user a bearer token belongs to. Every entry is compared, in constant time, so the
    /// time taken says nothing about which hash came close.
    pub fn authenticate(&self, token: &str) -> Option<UserInfo> {
        let Some(source) = &self.source else {
            return Self::find(&self.users, token);
        };
        let now = modified(&source.path);
        let mut seen = source.seen.lock().unwrap_or_else(|p| p.into_inner());
        if now != seen.0 {
            // A file that does not parse (half written by hand) keeps the users read before.
            match UsersFile::load(&source.path).and_then(|f| {
                Authenticator {
                    users: vec![source.admin.clone()],
                    source: None,
                }
                .with_users(&f)
            }) {
                Ok(a) => *seen = (now, a.users),
                Err(error) => {
                    tracing::warn!(%error, "the users file does not load; keeping the users read before")
                }
            }
        }
        Self::find(&seen.1, token)
    }

    fn find(users: &[([u8; 32], UserInfo)], token: &str) -> Option<UserInfo> {
        let given: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found = None;
        for (hash, user) in users {
            if bool::from(hash.ct_eq(&given)) && found.is_none() {
                found = Some(user.clone());
            }
        }
        found
    }
}

/// Modification time and length: two writes within one tick of the file system's clock still
/// differ in length unless they write the same number of bytes.
type Stamp = Option<(SystemTime, u64)>;

fn modified(path: &Path) -> Stamp {
    std::fs::metadata(path)
        .and_then(|m| Ok((m.modified()?, m.len())))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_token_is_a_master_and_others_are_strangers() {
        let a = Authenticator::admin("s3cret");
        let admin = a
            .authenticate("s3cret")
            .expect("the admin token authenticates");
        assert_eq!(admin.name, ADMIN_USER);
        assert!(admin.groups.iter().any(|g| g == MASTERS));
        assert_eq!(a.authenticate("s3cre"), None);
        assert_eq!(a.authenticate(""), None);
    }

    #[test]
    fn users_file_tokens_are_matched_by_hash() {
        let text = format!(
            "users:\n- name: alice\n  groups: [approvers]\n  tokenSha256: {}\n",
            token_sha256("alice-token")
        );
        let file = UsersFile::parse(&text).expect("a valid users file");
        let a = Authenticator::admin("admin")
            .with_users(&file)
            .expect("hashes are valid");
        let alice = a.authenticate("alice-token").expect("alice authenticates");
        assert_eq!(alice.name, "alice");
        assert_eq!(
            alice.groups,
            vec!["approvers".to_string(), AUTHENTICATED.into()]
        );
        assert_eq!(a.authenticate(&token_sha256("alice-token")), None);
    }

    #[test]
    fn a_bad_hash_or_nameless_user_is_refused_with_a_reason() {
        let bad = UsersFile::parse("users:\n- name: bob\n  tokenSha256: abc\n");
        assert_eq!(
            bad,
            Err(r#"user "bob": tokenSha256 must be 64 hex digits"#.into())
        );
        let nameless = format!("users:\n- name: ''\n  tokenSha256: {}\n", token_sha256("x"));
        assert_eq!(
            UsersFile::parse(&nameless),
            Err("a user has no name".into())
        );
    }

    #[test]
    fn a_missing_users_file_means_no_users() {
        let f = UsersFile::load(Path::new("/nonexistent/users.yaml")).expect("missing is fine");
        assert!(f.users.is_empty());
    }

    #[test]
    fn token_hashes_are_lower_case_hex_sha256() {
        assert_eq!(
            token_sha256("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
