//! Planned maintenance windows (aks §6.3, §6.7) and the weekly times of ScheduledStart gates
//! (aks §3.1, §12). Time is always a parameter.

use chrono::{DateTime, Duration, FixedOffset, NaiveTime, TimeZone, Utc, Weekday};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A member's planned maintenance window, the subset of AKS's `maintenanceWindow` a simulated
/// member carries: weekly on `dayOfWeek`, or daily when it is absent (interval 1; AKS's
/// `intervalWeeks`/`intervalDays` > 1 and monthly schedules are not simulated).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MaintenanceWindow {
    /// `Monday` … `Sunday`; absent ⇒ every day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_of_week: Option<String>,
    /// `HH:mm` in `utcOffset`.
    pub start_time: String,
    /// 1–24 (AKS requires at least 4; the simulation allows shorter windows for tests).
    pub duration_hours: u32,
    /// `+HH:mm` / `-HH:mm`, -14:00 to +14:00.
    #[serde(default = "utc")]
    pub utc_offset: String,
}

fn utc() -> String {
    "+00:00".into()
}

/// Open now (and until when) or closed (and when it next opens).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowState {
    Open { closes_at: DateTime<Utc> },
    Closed { opens_at: DateTime<Utc> },
}

/// The ranking of aks §6.3: lower goes first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum WindowBucket {
    OpenNow,
    /// Opens within the next 4 hours.
    OpensSoon,
    NoWindow,
    Closed,
}

const SOON: Duration = Duration::hours(4);

impl MaintenanceWindow {
    pub fn state_at(&self, now: DateTime<Utc>) -> Result<WindowState, String> {
        let day = self.day_of_week.as_deref().map(parse_weekday).transpose()?;
        let start = parse_hhmm(&self.start_time)?;
        let offset = parse_utc_offset(&self.utc_offset)?;
        if !(1..=24).contains(&self.duration_hours) {
            return Err(format!(
                "durationHours must be 1 to 24, got {}",
                self.duration_hours
            ));
        }
        let length = Duration::hours(i64::from(self.duration_hours));
        // A window that opened up to a day ago may still be open.
        let from = now - length;
        let opened = next_occurrence(day, start, offset, from);
        if opened <= now && now < opened + length {
            return Ok(WindowState::Open {
                closes_at: opened + length,
            });
        }
        Ok(WindowState::Closed {
            opens_at: next_occurrence(day, start, offset, now),
        })
    }

    pub fn bucket(&self, now: DateTime<Utc>) -> Result<WindowBucket, String> {
        Ok(match self.state_at(now)? {
            WindowState::Open { .. } => WindowBucket::OpenNow,
            WindowState::Closed { opens_at } if opens_at - now <= SOON => WindowBucket::OpensSoon,
            WindowState::Closed { .. } => WindowBucket::Closed,
        })
    }
}

/// The first time at or after `from` that is `time` (in `offset`) on `day` (any day if `None`):
/// a ScheduledStart gate reached after this week's time waits for next week (aks §12).
pub fn next_occurrence(
    day: Option<Weekday>,
    time: NaiveTime,
    offset: FixedOffset,
    from: DateTime<Utc>,
) -> DateTime<Utc> {
    let local = from.with_timezone(&offset).date_naive();
    // Eight days cover a weekly day even when `from` is just past this week's time.
    (-1..=8)
        .filter_map(|d| local.checked_add_signed(Duration::days(d)))
        .filter(|date| day.is_none_or(|w| chrono::Datelike::weekday(date) == w))
        .filter_map(|date| offset.from_local_datetime(&date.and_time(time)).single())
        .map(|t| t.with_timezone(&Utc))
        .find(|t| *t >= from)
        .unwrap_or(from)
}

pub fn parse_weekday(text: &str) -> Result<Weekday, String> {
    text.parse::<Weekday>()
        .map_err(|_| format!("{text:?} is not a day of the week"))
}

/// `HH:mm`, `^([01][0-9]|2[0-3]):[0-5][0-9]$` (aks §3.1).
pub fn parse_hhmm(text: &str) -> Result<NaiveTime, String> {
    let bad = || format!("{text:?} is not a time of day in HH:mm form");
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u32 = h.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    NaiveTime::from_hms_opt(h, m, 0).ok_or_else(bad)
}

/// `^[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00)$` (aks §3.1).
pub fn parse_utc_offset(text: &str) -> Result<FixedOffset, String> {
    let bad = || format!("{text:?} is not a UTC offset from -14:00 to +14:00");
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'+') => (1, &text[1..]),
        Some(b'-') => (-1, &text[1..]),
        _ => return Err(bad()),
    };
    let t = parse_hhmm(rest).map_err(|_| bad())?;
    let minutes = chrono::Timelike::hour(&t) * 60 + chrono::Timelike::minute(&t);
    if minutes > 14 * 60 {
        return Err(bad());
    }
    FixedOffset::east_opt(sign * (minutes as i32) * 60).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("timestamp")
    }

    fn window(day: Option<&str>, start: &str, hours: u32, offset: &str) -> MaintenanceWindow {
        MaintenanceWindow {
            day_of_week: day.map(str::to_string),
            start_time: start.into(),
            duration_hours: hours,
            utc_offset: offset.into(),
        }
    }

    #[test]
    fn a_weekly_window_is_open_inside_and_names_the_next_opening_outside() {
        // 2026-12-07 is a Monday.
        let w = window(Some("Tuesday"), "02:00", 4, "+01:00");
        assert_eq!(
            w.state_at(at("2026-12-08T02:30:00Z")),
            Ok(WindowState::Open {
                closes_at: at("2026-12-08T05:00:00Z")
            })
        );
        assert_eq!(
            w.state_at(at("2026-12-07T10:00:00Z")),
            Ok(WindowState::Closed {
                opens_at: at("2026-12-08T01:00:00Z")
            })
        );
        // Just closed: next week.
        assert_eq!(
            w.state_at(at("2026-12-08T05:00:00Z")),
            Ok(WindowState::Closed {
                opens_at: at("2026-12-15T01:00:00Z")
            })
        );
    }

    #[test]
    fn a_daily_window_that_crosses_midnight_is_open_after_midnight() {
        let w = window(None, "22:00", 6, "+00:00");
        assert!(matches!(
            w.state_at(at("2026-12-08T01:00:00Z")),
            Ok(WindowState::Open { .. })
        ));
    }

    #[test]
    fn buckets_rank_open_then_soon_then_none_then_closed() {
        let w = window(None, "12:00", 4, "+00:00");
        assert_eq!(
            w.bucket(at("2026-12-07T13:00:00Z")),
            Ok(WindowBucket::OpenNow)
        );
        assert_eq!(
            w.bucket(at("2026-12-07T09:00:00Z")),
            Ok(WindowBucket::OpensSoon)
        );
        assert_eq!(
            w.bucket(at("2026-12-07T05:00:00Z")),
            Ok(WindowBucket::Closed)
        );
        assert!(WindowBucket::OpensSoon < WindowBucket::NoWindow);
        assert!(WindowBucket::NoWindow < WindowBucket::Closed);
    }

    #[test]
    fn malformed_windows_say_what_is_wrong() {
        assert!(window(Some("Caturday"), "02:00", 4, "+00:00")
            .state_at(at("2026-12-07T00:00:00Z"))
            .is_err());
        assert!(parse_hhmm("24:00").is_err());
        assert!(parse_hhmm("2:00").is_err());
        assert!(parse_utc_offset("+14:30").is_err());
        assert!(parse_utc_offset("05:00").is_err());
        assert_eq!(
            parse_utc_offset("-05:30").map(|o| o.local_minus_utc()),
            Ok(-(5 * 3600 + 1800))
        );
    }

    #[test]
    fn a_scheduled_start_after_this_weeks_time_waits_for_next_week() {
        let t = parse_hhmm("09:00").expect("time");
        let o = parse_utc_offset("+00:00").expect("offset");
        let next = next_occurrence(Some(Weekday::Mon), t, o, at("2026-12-07T10:00:00Z"));
        assert_eq!(next, at("2026-12-14T09:00:00Z"));
        let same = next_occurrence(Some(Weekday::Mon), t, o, at("2026-12-07T08:00:00Z"));
        assert_eq!(same, at("2026-12-07T09:00:00Z"));
    }
}
