//! The browser bundle under `/pkg`: the files cargo-leptos builds (WASM, its JS glue, the split
//! chunks, the stylesheet), with their gzip and brotli copies when the release build made them.
//!
//! Their names carry a content hash (`hash-files` in the workspace metadata), so a name never
//! changes meaning: browsers may keep them for a year without asking again (`immutable`). A file
//! without a hash in its name (a build without `hash-files`) must be revalidated (`no-cache`).
//! Either way each answer has an `ETag`, and a matching `If-None-Match` gets `304 Not Modified`.
//! HTML pages name the current files, so they are `no-cache` themselves ([`html_no_cache`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY,
};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use leptos::config::LeptosOptions;
use sha2::{Digest, Sha256};
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// `Cache-Control` of a file whose name carries its content hash.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of everything that must be asked for again each time.
pub const NO_CACHE: &str = "no-cache";
/// The file that maps the bundle's files to their hashed names (cargo-leptos' format:
/// `js: <hash>`, `wasm: <hash>`, `css: <hash>`, …), looked for in the site root.
pub const HASH_FILE: &str = "hash.txt";

/// The `ETag`s computed so far, by file; a file rewritten in place (same name, a rebuild
/// without hashing) gets a new one because its length or time changed.
type Etags = HashMap<PathBuf, (u64, Option<SystemTime>, String)>;
static ETAGS: LazyLock<Mutex<Etags>> = LazyLock::new(Default::default);

/// The validator of the file's bytes (part of their SHA-256), computed once per version of it.
fn etag_of(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let stamp = (meta.len(), meta.modified().ok());
    {
        let cache = ETAGS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((len, modified, tag)) = cache.get(path) {
            if (*len, *modified) == stamp {
                return Some(tag.clone());
            }
        }
    }
    // Read and hash outside the lock: other files' requests need not wait.
    let digest = Sha256::digest(std::fs::read(path).ok()?);
    let tag: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    ETAGS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(path.to_path_buf(), (stamp.0, stamp.1, tag.clone()));
    Some(tag)
}

/// Serves `/pkg/*` from the site root (tower-http's `ServeDir`, which picks a precompressed
/// copy when the browser accepts it), adding `Cache-Control` and `ETag` and answering a
/// matching `If-None-Match` with `304`.
pub async fn serve(State(options): State<LeptosOptions>, req: Request) -> Response {
    let site_root = PathBuf::from(&*options.site_root);
    let Some(relative) = relative_path(req.uri().path()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let if_none_match = req.headers().get(IF_NONE_MATCH).cloned();
    let res = match ServeDir::new(&site_root)
        .precompressed_br()
        .precompressed_gzip()
        .oneshot(req)
        .await
    {
        Ok(res) => res.map(Body::new),
        Err(never) => match never {},
    };
    if res.status() != StatusCode::OK {
        return res;
    }
    // The bytes sent: the precompressed copy ServeDir chose, or the file itself. The file itself
    // may still be compressed on the way out (CompressionLayer), so its tag is weak.
    let file = site_root.join(&relative);
    let (served, weak) = match res
        .headers()
        .get(CONTENT_ENCODING)
        .map(HeaderValue::as_bytes)
    {
        Some(b"br") => (with_suffix(&file, "br"), false),
        Some(b"gzip") => (with_suffix(&file, "gz"), false),
        _ => (file.clone(), true),
    };
    let Some(tag) = etag_of(&served) else {
        return res;
    };
    let etag = if weak {
        format!("W/\"{tag}\"")
    } else {
        format!("\"{tag}\"")
    };
    let cache_control = if is_hashed(&relative) {
        IMMUTABLE
    } else {
        NO_CACHE
    };
    let mut res = if if_none_match.as_ref().is_some_and(|v| matches(v, &tag)) {
        let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
        if let Some(vary) = res.headers().get(VARY) {
            not_modified.headers_mut().insert(VARY, vary.clone());
        }
        not_modified
    } else {
        res
    };
    let headers = res.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(ETAG, value);
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache_control));
    res
}

/// Marks HTML answers (pages, the not-found page) `no-cache` unless a handler said otherwise:
/// they name the current hashed files, so a browser must never reuse an old page.
pub async fn html_no_cache(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let is_html = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html && !res.headers().contains_key(CACHE_CONTROL) {
        res.headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static(NO_CACHE));
    }
    res
}

/// The path below the site root, if it is a plain one (no `..`, no empty segments).
fn relative_path(uri_path: &str) -> Option<PathBuf> {
    let rest = uri_path.strip_prefix('/')?;
    let mut path = PathBuf::new();
    for segment in rest.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." || segment.contains('\\') {
            return None;
        }
        path.push(segment);
    }
    Some(path)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

/// Whether a file's name carries a cargo-leptos content hash: one dot-separated part of 22
/// base64url characters (an MD5 digest), as in `fleetdeck.3q2-7wEjDhYqFJt0pV8r1g.wasm`.
pub fn is_hashed(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|name| name.split('.').any(is_hash))
}

fn is_hash(part: &str) -> bool {
    part.len() == 22
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `If-None-Match` against our tag, with the weak comparison RFC 9110 prescribes for it.
fn matches(if_none_match: &HeaderValue, tag: &str) -> bool {
    let Ok(value) = if_none_match.to_str() else {
        return false;
    };
    value.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.trim_start_matches("W/").trim_matches('"') == tag
    })
}

/// Points Leptos at the hashed names of the bundle (its `HydrationScripts` and
/// `HashedStylesheet` read them from `options.hash_file`): `hash.txt` in the site root, where
/// `.ci/release.sh` copies it, or else a map made from the names in the site's `pkg` directory
/// (cargo-leptos empties the site root at each build, so they are the current files), written to
/// a file of this process in the temporary directory. A copied binary thus still finds the
/// assets it is given. Without hashed files, the plain names stay.
pub fn use_hash_file(options: &mut LeptosOptions) {
    let site_root = PathBuf::from(&*options.site_root);
    let in_site = site_root.join(HASH_FILE);
    let found = if in_site.is_file() {
        std::path::absolute(&in_site).ok()
    } else {
        derived_hash_file(
            &site_root.join(&*options.site_pkg_dir),
            &options.output_name,
        )
    };
    match found {
        Some(path) => {
            options.hash_files = true;
            options.hash_file = path.to_string_lossy().into();
        }
        None => options.hash_files = false,
    }
}

/// Writes cargo-leptos' `hash.txt` for the hashed files found in `pkg`, if the JS and the WASM
/// are among them; the newest file wins where a kind has several.
fn derived_hash_file(pkg: &Path, output_name: &str) -> Option<PathBuf> {
    let mut newest: HashMap<&'static str, (Option<SystemTime>, String)> = HashMap::new();
    for entry in std::fs::read_dir(pkg).ok()?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((kind, hash)) = hashed_kind(&name, output_name) else {
            continue;
        };
        let modified = entry.metadata().and_then(|m| m.modified()).ok();
        if newest.get(kind).is_none_or(|(seen, _)| modified > *seen) {
            newest.insert(kind, (modified, hash.to_string()));
        }
    }
    if !(newest.contains_key("js") && newest.contains_key("wasm")) {
        return None;
    }
    let text: String = ["js", "wasm", "css", "manifest", "split"]
        .iter()
        .filter_map(|kind| {
            newest
                .get(kind)
                .map(|(_, hash)| format!("{kind}: {hash}\n"))
        })
        .collect();
    let path = std::env::temp_dir().join(format!("fleetdeck-{}-{HASH_FILE}", std::process::id()));
    std::fs::write(&path, text).ok()?;
    Some(path)
}

/// The kind (as `hash.txt` names it) and hash of a hashed bundle file's name.
fn hashed_kind<'a>(name: &'a str, output_name: &str) -> Option<(&'static str, &'a str)> {
    let (stem, ext) = name.rsplit_once('.')?;
    let (base, hash) = stem.rsplit_once('.')?;
    if !is_hash(hash) {
        return None;
    }
    let kind = match (base, ext) {
        (b, "js") if b == output_name => "js",
        (b, "wasm") if b == output_name => "wasm",
        (b, "css") if b == output_name => "css",
        ("__wasm_split_manifest", "json") => "manifest",
        ("__wasm_split", "js") => "split",
        _ => return None,
    };
    Some((kind, hash))
}

/// The file names of the JS glue and the WASM, as the page's scripts name them.
pub fn bundle_files(options: &LeptosOptions) -> [String; 2] {
    let name = &options.output_name;
    let hashes = options
        .hash_files
        .then(|| std::fs::read_to_string(&*options.hash_file).ok())
        .flatten()
        .map(|text| parse_hash_file(&text))
        .unwrap_or_default();
    ["js", "wasm"].map(|ext| match hashes.get(ext) {
        Some(hash) => format!("{name}.{hash}.{ext}"),
        None => format!("{name}.{ext}"),
    })
}

fn parse_hash_file(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_are_recognised() {
        assert!(is_hashed(Path::new(
            "pkg/fleetdeck.3q2-7wEjDhYqFJt0pV8r1g.wasm"
        )));
        assert!(is_hashed(Path::new(
            "pkg/__wasm_split.3q2-7wEjDhYqFJt0pV8r1g.js"
        )));
        assert!(!is_hashed(Path::new("pkg/fleetdeck.wasm")));
        assert!(!is_hashed(Path::new("pkg/fleetdeck_bg.wasm")));
    }

    #[test]
    fn if_none_match_compares_weakly_and_lists() {
        let tag = "abc";
        for ok in ["\"abc\"", "W/\"abc\"", "\"x\", \"abc\"", "*"] {
            assert!(matches(&HeaderValue::from_static(ok), tag), "{ok}");
        }
        assert!(!matches(&HeaderValue::from_static("\"abd\""), tag));
    }

    #[test]
    fn only_plain_paths_are_served() {
        assert_eq!(relative_path("/pkg/a.js"), Some(PathBuf::from("pkg/a.js")));
        assert_eq!(relative_path("/pkg/../secret"), None);
        assert_eq!(relative_path("/pkg//a.js"), None);
    }

    #[test]
    fn hashed_files_are_told_apart_by_kind() {
        let h = "3q2-7wEjDhYqFJt0pV8r1g";
        let kind = |name: &str| hashed_kind(name, "fleetdeck").map(|(k, _)| k);
        assert_eq!(kind(&format!("fleetdeck.{h}.wasm")), Some("wasm"));
        assert_eq!(kind(&format!("fleetdeck.{h}.css")), Some("css"));
        assert_eq!(kind(&format!("__wasm_split.{h}.js")), Some("split"));
        assert_eq!(kind(&format!("fleetdeck.{h}.wasm.br")), None);
        assert_eq!(kind("fleetdeck.wasm"), None);
    }

    #[test]
    fn hash_file_names_the_bundle() {
        let hashes = parse_hash_file("js: J\nwasm: W\ncss: C\n");
        assert_eq!(hashes.get("wasm").map(String::as_str), Some("W"));
    }
}
