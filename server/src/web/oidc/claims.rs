//! From a verified ID token's claims to the person the dashboard acts as: the username claim
//! and the groups claim, with optional prefixes — the same mapping kube-apiserver's own OIDC
//! flags make (`--oidc-username-claim`, `--oidc-groups-claim`, `--oidc-username-prefix`,
//! `--oidc-groups-prefix`), so one set of RoleBindings serves kubectl and the dashboard.

use serde_json::{Map, Value};

/// Which claims name the person, and the prefixes their RBAC subjects carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimMapping {
    pub username_claim: String,
    pub username_prefix: String,
    pub groups_claim: String,
    pub groups_prefix: String,
}

/// The person a token names: the RBAC User and Groups the hub sees through impersonation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub groups: Vec<String>,
}

/// Why a verified token still names nobody.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimRefusal {
    /// The username claim is missing, empty or not a string.
    NoUsername,
    /// The username is the e-mail address and the provider says it is not verified.
    UnverifiedEmail,
}

impl ClaimMapping {
    pub fn identity(&self, claims: &Map<String, Value>) -> Result<Identity, ClaimRefusal> {
        let name = claims
            .get(&self.username_claim)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .ok_or(ClaimRefusal::NoUsername)?;
        // kube-apiserver's rule: an e-mail address names a person only if it is verified (an
        // unverified one could be anyone's).
        if self.username_claim == "email"
            && claims.get("email_verified").and_then(Value::as_bool) == Some(false)
        {
            return Err(ClaimRefusal::UnverifiedEmail);
        }
        // A groups claim may be one string or a list; anything else names no group.
        let groups = match claims.get(&self.groups_claim) {
            Some(Value::String(g)) => vec![g.clone()],
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        };
        Ok(Identity {
            name: format!("{}{name}", self.username_prefix),
            groups: groups
                .into_iter()
                .filter(|g| !g.is_empty())
                .map(|g| format!("{}{g}", self.groups_prefix))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mapping(claim: &str, prefix: &str) -> ClaimMapping {
        ClaimMapping {
            username_claim: claim.into(),
            username_prefix: prefix.into(),
            groups_claim: "groups".into(),
            groups_prefix: prefix.into(),
        }
    }

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("an object")
    }

    #[test]
    fn the_username_and_groups_claims_become_the_rbac_subjects_with_their_prefixes() {
        let c = claims(json!({
            "sub": "248289761001",
            "email": "vera@example.com",
            "email_verified": true,
            "groups": ["fleet-viewers", "", 7, "staff"],
        }));
        assert_eq!(
            mapping("email", "oidc:").identity(&c),
            Ok(Identity {
                name: "oidc:vera@example.com".into(),
                groups: vec!["oidc:fleet-viewers".into(), "oidc:staff".into()],
            })
        );
        assert_eq!(
            mapping("sub", "").identity(&c).map(|i| i.name),
            Ok("248289761001".into())
        );
        let one = claims(json!({"sub": "x", "groups": "admins"}));
        assert_eq!(
            mapping("sub", "").identity(&one).map(|i| i.groups),
            Ok(vec!["admins".to_string()])
        );
    }

    #[test]
    fn a_missing_username_or_an_unverified_email_names_nobody() {
        let c = claims(json!({"sub": "x", "email": "eve@example.com", "email_verified": false}));
        assert_eq!(
            mapping("email", "").identity(&c),
            Err(ClaimRefusal::UnverifiedEmail)
        );
        assert_eq!(
            mapping("preferred_username", "").identity(&c),
            Err(ClaimRefusal::NoUsername)
        );
        let blank = claims(json!({"sub": "  "}));
        assert_eq!(
            mapping("sub", "").identity(&blank),
            Err(ClaimRefusal::NoUsername)
        );
    }
}
