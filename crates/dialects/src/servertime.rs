//! The datetimes servers send, with or without an offset.
//!
//! OMFLOW sends naive server-local times in two shapes
//! (`2020-07-07T13:50:21.494` and `2020-07-07 13:50:21.494123`), GEVER sends
//! offset times from its content API (`2019-01-24T16:12:12+00:00`) but naive
//! ones from its SQL index, and Hitachi sends offset times or empty strings.
//! A [`ServerTime`] keeps the text exactly as it came (so a value written
//! back is byte-identical) next to its parsed parts; turning it into an
//! instant needs the server's time zone only when the offset is missing.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::fmt::temporal::{Pieces, PiecesOffset};
use jiff::tz::{Offset, TimeZone};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A datetime as a server wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTime {
    text: String,
    civil: DateTime,
    offset: Option<Offset>,
}

impl ServerTime {
    /// Parses ISO 8601 with `T` or a space between date and time, optional
    /// seconds and fraction, and an optional offset (`Z`, `+09:00`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        let pieces = Pieces::parse(trimmed)
            .map_err(|e| format!("{trimmed:?} is not a date and time: {e}"))?;
        let Some(time) = pieces.time() else {
            return Err(format!("{trimmed:?} has no time of day"));
        };
        if pieces.time_zone_annotation().is_some() {
            return Err(format!(
                "{trimmed:?} carries a time zone name; expected an offset"
            ));
        }
        let offset = match pieces.offset() {
            None => None,
            Some(PiecesOffset::Zulu) => Some(Offset::UTC),
            Some(PiecesOffset::Numeric(n)) => Some(n.offset()),
            Some(_) => return Err(format!("{trimmed:?} has an offset tasklane cannot use")),
        };
        Ok(ServerTime {
            text: text.to_string(),
            civil: pieces.date().to_datetime(time),
            offset,
        })
    }

    /// A naive time written the way Django's JSON encoder writes it
    /// (`2020-07-07T13:50:21.494`, no fraction when it is zero).
    pub fn naive(civil: DateTime) -> Self {
        let millis = civil.subsec_nanosecond() / 1_000_000;
        let text = if millis == 0 {
            civil.strftime("%Y-%m-%dT%H:%M:%S").to_string()
        } else {
            format!("{}.{millis:03}", civil.strftime("%Y-%m-%dT%H:%M:%S"))
        };
        ServerTime {
            text,
            civil,
            offset: None,
        }
    }

    /// An instant written with an offset, `2019-01-24T16:12:12+00:00`.
    pub fn with_offset(at: Timestamp, offset: Offset) -> Self {
        let civil = offset.to_datetime(at);
        let text = format!(
            "{}{}",
            civil.strftime("%Y-%m-%dT%H:%M:%S"),
            offset_text(offset)
        );
        ServerTime {
            text,
            civil,
            offset: Some(offset),
        }
    }

    /// The text exactly as the server sent it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The wall-clock reading, whatever the zone.
    pub fn civil(&self) -> DateTime {
        self.civil
    }

    /// The offset the server wrote, if it wrote one.
    pub fn offset(&self) -> Option<Offset> {
        self.offset
    }

    /// The instant meant, reading a naive time in the server's zone `tz`.
    /// A naive time in a DST gap or fold resolves the way most servers
    /// resolve it (the earlier of two readings, the later side of a gap).
    pub fn to_timestamp(&self, tz: &TimeZone) -> Option<Timestamp> {
        match self.offset {
            Some(offset) => offset.to_timestamp(self.civil).ok(),
            None => tz.to_ambiguous_timestamp(self.civil).compatible().ok(),
        }
    }
}

fn offset_text(offset: Offset) -> String {
    let secs = offset.seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let secs = secs.unsigned_abs();
    format!("{sign}{:02}:{:02}", secs / 3600, (secs / 60) % 60)
}

impl fmt::Display for ServerTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for ServerTime {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ServerTime::parse(s)
    }
}

impl Serialize for ServerTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for ServerTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        ServerTime::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Serde for `Option<ServerTime>` where the server writes an unset time as
/// an empty string (Hitachi) or `null`, and expects `""` back.
pub mod empty_as_none {
    use super::ServerTime;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<ServerTime>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.as_ref().map(ServerTime::as_str).unwrap_or(""))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ServerTime>, D::Error> {
        match crate::lenient::opt_text(d)? {
            None => Ok(None),
            Some(t) if t.trim().is_empty() => Ok(None),
            Some(t) => ServerTime::parse(&t)
                .map(Some)
                .map_err(serde::de::Error::custom),
        }
    }
}

/// Serde for `Option<ServerTime>` where an unset time is `null` (or, from
/// lenient servers, an empty string).
pub mod opt {
    use super::ServerTime;
    use serde::{Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<ServerTime>, s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ServerTime>, D::Error> {
        super::empty_as_none::deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_the_servers_send_parses_and_keeps_its_text() {
        let taipei = TimeZone::get("Asia/Taipei").unwrap();
        for (text, utc) in [
            ("2020-07-07T13:50:21.494", "2020-07-07T05:50:21.494Z"),
            ("2020-07-07T13:50:21", "2020-07-07T05:50:21Z"),
            ("2026-11-22 12:26:51.086477", "2026-11-22T04:26:51.086477Z"),
            ("2019-01-24T16:12:12+00:00", "2019-01-24T16:12:12Z"),
            ("2016-12-09T15:54:55+09:00", "2016-12-09T06:54:55Z"),
            ("2018-06-01T10:30+09:00", "2018-06-01T01:30:00Z"),
            ("2018-06-01T10:30:00Z", "2018-06-01T10:30:00Z"),
        ] {
            let t = ServerTime::parse(text).unwrap();
            assert_eq!(t.as_str(), text);
            assert_eq!(
                t.to_timestamp(&taipei).unwrap(),
                utc.parse::<Timestamp>().unwrap(),
                "{text}"
            );
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{text}\""));
        }
    }

    #[test]
    fn text_that_is_not_a_datetime_is_refused() {
        for text in [
            "",
            "yesterday",
            "2020-07-07",
            "2020-13-01T00:00:00",
            "12:00",
        ] {
            assert!(ServerTime::parse(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn constructed_times_are_written_like_the_vendors_write_them() {
        let civil: DateTime = "2020-07-07T13:50:21.494".parse().unwrap();
        assert_eq!(ServerTime::naive(civil).as_str(), "2020-07-07T13:50:21.494");
        let whole: DateTime = "2020-07-07T13:50:21".parse().unwrap();
        assert_eq!(ServerTime::naive(whole).as_str(), "2020-07-07T13:50:21");
        let at: Timestamp = "2016-12-09T06:54:55Z".parse().unwrap();
        let jst = Offset::from_hours(9).unwrap();
        assert_eq!(
            ServerTime::with_offset(at, jst).as_str(),
            "2016-12-09T15:54:55+09:00"
        );
        assert_eq!(
            ServerTime::with_offset(at, Offset::UTC).as_str(),
            "2016-12-09T06:54:55+00:00"
        );
    }
}
