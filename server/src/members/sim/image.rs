//! Whether the simulated container runtime can pull an image.
//!
//! The reference grammar is the one of `distribution/reference`: lowercase path components,
//! optional registry host and port, a tag of `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}` or a digest.
//! On top of it the simulated registry knows no tag with capital letters, so `nginx:INVALID`
//! fails the way seed 003 shows (`InvalidImageName`) and the rollout gets stuck, as there.

/// Why an image cannot be used, in the kubelet's words, or `None` when it can.
pub fn invalid_reason(image: &str) -> Option<String> {
    if is_pullable(image) {
        None
    } else {
        Some(format!(
            "Failed to apply default image tag \"{image}\": couldn't parse image name \"{image}\": invalid reference format"
        ))
    }
}

fn is_pullable(image: &str) -> bool {
    let (rest, digest) = match image.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (image, None),
    };
    if let Some(digest) = digest {
        let Some((algo, hex)) = digest.split_once(':') else {
            return false;
        };
        if algo.is_empty() || hex.len() < 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return false;
        }
    }
    // A tag follows the last ':' that comes after the last '/' (a ':' before it is a port).
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(tag) = tag {
        let mut bytes = tag.bytes();
        let first_ok = bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
        let rest_ok = bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        // The simulated registry's own rule: no capitals in tags.
        if !first_ok || !rest_ok || tag.len() > 128 || tag.bytes().any(|b| b.is_ascii_uppercase()) {
            return false;
        }
    }
    let parts: Vec<&str> = name.split('/').collect();
    // A first component with '.' or ':' (or `localhost`) is a registry host.
    let has_host = parts.len() > 1
        && (parts[0].contains('.') || parts[0].contains(':') || parts[0] == "localhost");
    let path = if has_host {
        let host_ok = parts[0]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'));
        if !host_ok {
            return false;
        }
        &parts[1..]
    } else {
        &parts[..]
    };
    let mut any = false;
    for component in path {
        any = true;
        if !is_path_component(component) {
            return false;
        }
    }
    any
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`
fn is_path_component(c: &str) -> bool {
    let bytes = c.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if alnum(b) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-')) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_images_are_pullable() {
        for image in [
            "nginx",
            "nginx:1.20",
            "library/nginx:1.21-alpine",
            "registry.k8s.io/pause:3.9",
            "localhost:5000/team/app:v2_rc.1",
            "my-registry.example.com:443/a/b__c/d--e:latest",
            "nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(invalid_reason(image), None, "{image}");
        }
    }

    #[test]
    fn invalid_references_and_capital_tags_are_refused() {
        for image in [
            "nginx:INVALID",
            "Nginx:1.20",
            "nginx:",
            ":1.0",
            "nginx:-bad",
            "a//b",
            "nginx@sha256:xyz",
            "",
        ] {
            let reason = invalid_reason(image);
            assert!(
                reason
                    .as_deref()
                    .is_some_and(|r| r.contains("invalid reference format")),
                "{image}"
            );
        }
    }
}
