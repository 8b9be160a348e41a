//! Points in time as the replica stores them.
//!
//! Every instant is stored as UTC text in one fixed-width format
//! (`2026-11-22T08:30:00Z`), so that SQLite's text ordering is time
//! ordering and a value means the same thing whoever reads it. Deadlines are
//! the exception the servers force on us: GEVER deadlines are calendar dates
//! without a time of day, so a deadline is either a date (`2026-11-30`) or an
//! instant. Both sort correctly against each other as text.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The current instant, truncated to whole seconds like everything stored.
pub fn now() -> Timestamp {
    let now = Timestamp::now();
    Timestamp::from_second(now.as_second()).unwrap_or(now)
}

/// Formats an instant in the replica's fixed-width UTC form.
pub fn format_ts(ts: Timestamp) -> String {
    let at = jiff::tz::Offset::UTC.to_datetime(ts);
    let Some(year) = four_digit_year(at.date()) else {
        return ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    };
    let mut text = String::with_capacity(20);
    push_date(&mut text, year, at.date());
    text.push('T');
    push_digits(&mut text, at.hour().unsigned_abs().into(), 2);
    text.push(':');
    push_digits(&mut text, at.minute().unsigned_abs().into(), 2);
    text.push(':');
    push_digits(&mut text, at.second().unsigned_abs().into(), 2);
    text.push('Z');
    text
}

/// The year of `date` if it has four digits, where the hand-written form
/// and `%Y` agree.
fn four_digit_year(date: Date) -> Option<u16> {
    u16::try_from(date.year()).ok().filter(|y| *y <= 9999)
}

/// `YYYY-MM-DD`, written by hand: every merged task has a few instants, and
/// both `strftime` (which reads its format string each time) and
/// `format!`'s padding cost a few per cent of a first sync's merging each.
fn push_date(text: &mut String, year: u16, date: Date) {
    push_digits(text, year.into(), 4);
    text.push('-');
    push_digits(text, date.month().unsigned_abs().into(), 2);
    text.push('-');
    push_digits(text, date.day().unsigned_abs().into(), 2);
}

/// `n` in exactly `width` decimal digits, zero-padded; callers pass
/// numbers that fit.
fn push_digits(text: &mut String, n: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = n / 10u32.pow(place) % 10;
        text.push(char::from_digit(digit, 10).unwrap_or('0'));
    }
}

/// Parses an instant written with an offset (`Z`, `+09:00`, ...).
pub fn parse_ts(text: &str) -> Option<Timestamp> {
    text.trim().parse::<Timestamp>().ok()
}

/// A deadline: a calendar date, or an exact instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    Date(Date),
    At(Timestamp),
}

impl Deadline {
    /// The stored text form.
    pub fn to_text(&self) -> String {
        match self {
            Deadline::Date(d) => match four_digit_year(*d) {
                Some(year) => {
                    let mut text = String::with_capacity(10);
                    push_date(&mut text, year, *d);
                    text
                }
                None => d.strftime("%Y-%m-%d").to_string(),
            },
            Deadline::At(ts) => format_ts(*ts),
        }
    }

    /// The calendar day this deadline falls on, in UTC for instants.
    pub fn day(&self) -> Date {
        match self {
            Deadline::Date(d) => *d,
            Deadline::At(ts) => ts.to_zoned(jiff::tz::TimeZone::UTC).date(),
        }
    }
}

impl FromStr for Deadline {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.len() == 10
            && let Ok(d) = s.parse::<Date>()
        {
            return Ok(Deadline::Date(d));
        }
        parse_ts(s).map(Deadline::At).ok_or_else(|| {
            format!("{s:?} is neither a date (YYYY-MM-DD) nor a time with an offset (RFC 3339)")
        })
    }
}

impl fmt::Display for Deadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl Serialize for Deadline {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_text())
    }
}

impl<'de> Deserialize<'de> for Deadline {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Serde helpers for `Option<Timestamp>` fields in the replica's text form.
pub mod opt_ts {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(ts) => s.serialize_str(&super::format_ts(*ts)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) if text.trim().is_empty() => Ok(None),
            Some(text) => super::parse_ts(&text).map(Some).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "{text:?} is not a time with an offset (RFC 3339)"
                ))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_stored_in_fixed_width_utc() {
        let ts: Timestamp = "2020-07-07T13:50:21.494+08:00".parse().unwrap();
        assert_eq!(format_ts(ts), "2020-07-07T05:50:21Z");
    }

    #[test]
    fn the_fixed_width_form_is_strftimes() {
        // Across the years, months and days the hand-written form covers,
        // and the years it leaves to strftime.
        for text in [
            "0000-01-01T00:00:00Z",
            "0099-02-03T04:05:06Z",
            "1970-01-01T00:00:00Z",
            "2026-12-31T23:59:59Z",
            "9999-12-30T12:00:00Z",
            "-000001-06-15T12:00:00Z",
        ] {
            let ts: Timestamp = text.parse().unwrap();
            let strftime = ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
            assert_eq!(format_ts(ts), strftime, "{text}");
            let date = jiff::tz::Offset::UTC.to_datetime(ts).date();
            assert_eq!(
                Deadline::Date(date).to_text(),
                date.strftime("%Y-%m-%d").to_string(),
                "{text}"
            );
        }
    }

    #[test]
    fn deadlines_are_dates_or_instants_and_sort_as_text() {
        let date: Deadline = "2026-11-30".parse().unwrap();
        let at: Deadline = "2026-11-30T10:00:00+09:00".parse().unwrap();
        assert_eq!(date.to_text(), "2026-11-30");
        assert_eq!(at.to_text(), "2026-11-30T01:00:00Z");
        assert!(date.to_text() < at.to_text());
        assert!("2026-12-01" > at.to_text().as_str());
        assert!("tomorrow".parse::<Deadline>().is_err());
    }
}
