//! `SelfSubjectAccessReview` and `SelfSubjectRulesReview` (authorization.k8s.io/v1): a client
//! asks what it may do and gets the authorizer's own answer. Nothing is stored. `kubectl auth
//! can-i` posts the first; the console disables what the answer forbids.

use k8s_openapi::api::authentication::v1::{
    SelfSubjectReview, SelfSubjectReviewStatus, UserInfo as AuthUserInfo,
};
use k8s_openapi::api::authorization::v1::{
    NonResourceRule, ResourceRule, SelfSubjectAccessReview, SelfSubjectRulesReview,
    SubjectAccessReviewStatus, SubjectRulesReviewStatus,
};
use serde_json::Value;

use super::{authorize, load_policy, Attributes, UserInfo};
use crate::status::{Cause, Error, Result, Subject};
use crate::store::Store;

fn decode<T: serde::de::DeserializeOwned>(body: Value) -> Result<T> {
    serde_json::from_value(body)
        .map_err(|e| Error::BadRequest(format!("couldn't decode the request body: {e}")))
}

fn subject(kind: &str) -> Subject {
    Subject {
        group: "authorization.k8s.io".into(),
        plural: format!("{}s", kind.to_lowercase()),
        kind: kind.into(),
        name: String::new(),
    }
}

/// Answers a SelfSubjectReview (authentication.k8s.io/v1): who `user` is.
pub(crate) fn who(user: &UserInfo, body: Value) -> Result<SelfSubjectReview> {
    let mut review: SelfSubjectReview = decode(body)?;
    review.status = Some(SelfSubjectReviewStatus {
        user_info: Some(AuthUserInfo {
            username: Some(user.name.clone()),
            groups: Some(user.groups.clone()),
            ..Default::default()
        }),
    });
    Ok(review)
}

/// Answers a SelfSubjectAccessReview for `user`.
pub(crate) fn access(
    store: &Store,
    user: &UserInfo,
    body: Value,
) -> Result<SelfSubjectAccessReview> {
    let mut review: SelfSubjectAccessReview = decode(body)?;
    let spec = &review.spec;
    let attrs = match (&spec.resource_attributes, &spec.non_resource_attributes) {
        (Some(r), None) => Attributes {
            verb: r.verb.clone().unwrap_or_default(),
            resource_request: true,
            group: r.group.clone().unwrap_or_default(),
            version: r.version.clone().unwrap_or_default(),
            resource: r.resource.clone().unwrap_or_default(),
            subresource: r.subresource.clone().unwrap_or_default(),
            namespace: r.namespace.clone().unwrap_or_default(),
            name: r.name.clone().unwrap_or_default(),
            path: String::new(),
        },
        (None, Some(n)) => Attributes {
            verb: n.verb.clone().unwrap_or_default(),
            path: n.path.clone().unwrap_or_default(),
            ..Default::default()
        },
        _ => {
            return Err(Error::Invalid(
                subject("SelfSubjectAccessReview"),
                vec![Cause::invalid(
                    "spec.resourceAttributes",
                    "Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified",
                )],
            ))
        }
    };
    let d = authorize(&load_policy(store), user, &attrs);
    review.status = Some(SubjectAccessReviewStatus {
        allowed: d.allowed,
        reason: (!d.reason.is_empty()).then_some(d.reason),
        ..Default::default()
    });
    Ok(review)
}

/// Answers a SelfSubjectRulesReview: every rule that applies to `user` in `spec.namespace`.
pub(crate) fn rules(store: &Store, user: &UserInfo, body: Value) -> Result<SelfSubjectRulesReview> {
    let mut review: SelfSubjectRulesReview = decode(body)?;
    let namespace = review.spec.namespace.clone().unwrap_or_default();
    let (rules, errors) = load_policy(store).rules_for(user, &namespace);
    let mut status = SubjectRulesReviewStatus {
        incomplete: !errors.is_empty(),
        evaluation_error: (!errors.is_empty()).then(|| errors.join(", ")),
        ..Default::default()
    };
    for r in rules {
        match r.non_resource_urls {
            Some(urls) if !urls.is_empty() => status.non_resource_rules.push(NonResourceRule {
                verbs: r.verbs,
                non_resource_urls: Some(urls),
            }),
            _ => status.resource_rules.push(ResourceRule {
                verbs: r.verbs,
                api_groups: r.api_groups,
                resources: r.resources,
                resource_names: r.resource_names,
            }),
        }
    }
    review.status = Some(status);
    Ok(review)
}
