//! Datetimes as each dialect writes them. The engine stores UTC; OMFLOW
//! writes naive server-local times (Asia/Taipei by default), GEVER writes
//! content times in UTC with an offset but index and response times naive
//! (read in Europe/Zurich by clients), Hitachi writes local times with an
//! offset (Asia/Tokyo by default).

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

/// The server's time zones, per dialect.
#[derive(Debug, Clone)]
pub struct Zones {
    pub omflow: TimeZone,
    pub gever: TimeZone,
    pub hitachi: TimeZone,
}

impl Default for Zones {
    fn default() -> Self {
        let zone = |name: &str| TimeZone::get(name).unwrap_or(TimeZone::UTC);
        Zones {
            omflow: zone("Asia/Taipei"),
            gever: zone("Europe/Zurich"),
            hitachi: zone("Asia/Tokyo"),
        }
    }
}

fn parse(utc: &str) -> Option<Timestamp> {
    utc.parse::<Timestamp>().ok()
}

fn local(utc: &str, tz: &TimeZone) -> Option<Zoned> {
    parse(utc).map(|ts| ts.to_zoned(tz.clone()))
}

/// OMFLOW JSON style: `2020-07-07T13:50:21` (naive, local).
pub fn omflow(utc: &str, tz: &TimeZone) -> Option<String> {
    local(utc, tz).map(|z| z.strftime("%Y-%m-%dT%H:%M:%S").to_string())
}

/// OMFLOW's str() style used by the work log: `2026-11-22 12:26:51.000000`.
pub fn omflow_spaced(utc: &str, tz: &TimeZone) -> Option<String> {
    local(utc, tz).map(|z| z.strftime("%Y-%m-%d %H:%M:%S.%6f").to_string())
}

/// Reads a naive OMFLOW time (either separator, optional fraction) in the
/// server's zone, as stored UTC text; `None` if it is not a time.
pub fn omflow_to_utc(text: &str, tz: &TimeZone) -> Option<String> {
    let text = text.trim().replace(' ', "T");
    let civil: DateTime = text.parse().ok().or_else(|| {
        text.parse::<Date>()
            .ok()
            .map(|d| d.to_datetime(jiff::civil::Time::midnight()))
    })?;
    let ts = civil.to_zoned(tz.clone()).ok()?.timestamp();
    Some(tasklane_core::time::format_ts(ts))
}

/// GEVER content times: `2019-01-24T16:12:12+00:00`.
pub fn gever_utc(utc: &str) -> Option<String> {
    parse(utc).map(|ts| ts.strftime("%Y-%m-%dT%H:%M:%S+00:00").to_string())
}

/// GEVER index and response times: naive, in the server's zone.
pub fn gever_naive(utc: &str, tz: &TimeZone) -> Option<String> {
    local(utc, tz).map(|z| z.strftime("%Y-%m-%dT%H:%M:%S").to_string())
}

/// Hitachi: `2016-12-09T15:54:55+09:00`; empty when unset.
pub fn hitachi(utc: Option<&str>, tz: &TimeZone) -> String {
    utc.and_then(|u| local(u, tz))
        .map(|z| z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
        .unwrap_or_default()
}

/// A date deadline as a Hitachi instant: the end of that day, local time.
pub fn hitachi_deadline(deadline: Option<&str>, tz: &TimeZone) -> String {
    let Some(d) = deadline else {
        return String::new();
    };
    if let Ok(date) = d.parse::<Date>() {
        return date
            .to_datetime(jiff::civil::time(23, 59, 59, 0))
            .to_zoned(tz.clone())
            .map(|z| z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
            .unwrap_or_default();
    }
    hitachi(Some(d), tz)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_dialect_writes_its_own_form() {
        let z = Zones::default();
        assert_eq!(
            omflow("2020-07-07T05:50:21Z", &z.omflow).unwrap(),
            "2020-07-07T13:50:21"
        );
        assert_eq!(
            omflow_spaced("2020-07-07T05:50:21Z", &z.omflow).unwrap(),
            "2020-07-07 13:50:21.000000"
        );
        assert_eq!(
            omflow_to_utc("2020-07-07 13:50:21.494", &z.omflow).unwrap(),
            "2020-07-07T05:50:21Z"
        );
        assert_eq!(
            omflow_to_utc("2020-07-07", &z.omflow).unwrap(),
            "2020-07-06T16:00:00Z"
        );
        assert!(omflow_to_utc("yesterday", &z.omflow).is_none());
        assert_eq!(
            gever_utc("2019-01-24T16:12:12Z").unwrap(),
            "2019-01-24T16:12:12+00:00"
        );
        assert_eq!(
            gever_naive("2019-01-24T16:12:12Z", &z.gever).unwrap(),
            "2019-01-24T17:12:12"
        );
        assert_eq!(
            hitachi(Some("2016-12-09T06:54:55Z"), &z.hitachi),
            "2016-12-09T15:54:55+09:00"
        );
        assert_eq!(hitachi(None, &z.hitachi), "");
        assert_eq!(
            hitachi_deadline(Some("2026-11-30"), &z.hitachi),
            "2026-11-30T23:59:59+09:00"
        );
    }
}
