use leptos::prelude::*;

use super::MAX_NOTE_CHARS;
use crate::error::AppError;
use crate::live::Activity;

/// Checks a note before it is posted; shared by the server and the form in the browser.
pub fn validate_note(text: &str) -> Result<&str, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AppError::Invalid(
            "a note cannot be empty: type what your team should know".into(),
        ));
    }
    let chars = text.chars().count();
    if chars > MAX_NOTE_CHARS {
        return Err(AppError::Invalid(format!(
            "a note is at most {MAX_NOTE_CHARS} characters, this one has {chars}: shorten it"
        )));
    }
    Ok(text)
}

/// Posts a note to the activity feed, where every open dashboard sees it at once.
#[server(prefix = "/api", endpoint = "activity/post_note")]
pub async fn post_note(text: String) -> Result<Activity, AppError> {
    use crate::error::respond;
    let text = validate_note(&text).map_err(respond)?;
    let feed = use_context::<crate::live::Feed>().ok_or_else(|| {
        respond(AppError::Unavailable(
            "the activity feed is not running".into(),
        ))
    })?;
    Ok(feed.publish("dashboard", text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_trimmed_and_bounded() {
        assert_eq!(validate_note("  ship it  "), Ok("ship it"));
        assert!(
            matches!(validate_note("   "), Err(AppError::Invalid(m)) if m.contains("cannot be empty"))
        );
        let long = "x".repeat(MAX_NOTE_CHARS + 1);
        assert!(matches!(validate_note(&long), Err(AppError::Invalid(m)) if m.contains("281")));
        // characters, not bytes
        assert!(validate_note(&"é".repeat(MAX_NOTE_CHARS)).is_ok());
    }
}
