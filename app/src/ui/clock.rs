//! The page's sense of now: one signal ticking every second in the browser (gloo-timers), so
//! countdowns and "x min ago" stay true without a reload; the server renders with its own now.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Clock(pub RwSignal<DateTime<Utc>>);

impl Clock {
    pub fn provide() {
        let now = RwSignal::new(Utc::now());
        #[cfg(feature = "hydrate")]
        {
            let tick = gloo_timers::callback::Interval::new(1_000, move || now.set(Utc::now()));
            let held = send_wrapper::SendWrapper::new(tick);
            on_cleanup(move || drop(held));
        }
        provide_context(Clock(now));
    }

    pub fn now() -> DateTime<Utc> {
        use_context::<Clock>()
            .map(|c| c.0.get())
            .unwrap_or_else(Utc::now)
    }
}

/// `42 s`, `3 min 5 s`, `2 h 10 min`, `3 d 4 h`.
pub fn span(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        3600..86400 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        _ => format!("{} d {} h", s / 86400, (s % 86400) / 3600),
    }
}

/// `3 min 5 s ago`, or `just now`.
pub fn ago(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let s = (now - then).num_seconds();
    if s < 2 {
        "just now".into()
    } else {
        format!("{} ago", span(s))
    }
}

/// A time a person can read at a glance, with the full timestamp for a tooltip.
pub fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_in_the_largest_useful_units() {
        assert_eq!(span(42), "42 s");
        assert_eq!(span(185), "3 min 5 s");
        assert_eq!(span(7800), "2 h 10 min");
        assert_eq!(span(3 * 86400 + 4 * 3600 + 1), "3 d 4 h");
        assert_eq!(span(-5), "0 s");
        let now = Utc::now();
        assert_eq!(ago(now, now), "just now");
        assert_eq!(
            ago(now - chrono::Duration::seconds(90), now),
            "1 min 30 s ago"
        );
    }
}
