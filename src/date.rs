//! Calendar days: `Date` (proleptic Gregorian, UTC), parsed from
//! `YYYY-MM-DD` with a reason when it is not a real day, and `Clock`, the
//! one source of "today" every dated answer reads (the system's, or a day
//! fixed by `--today` for previews and tests).

use std::cell::Cell;
use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

/// A calendar day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

/// Why a text is not a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a date: {reason} (expected YYYY-MM-DD, e.g. 2027-04-01)")]
pub struct DateError {
    text: String,
    reason: &'static str,
}

impl Date {
    /// A day that exists, or `None`.
    pub const fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        if month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// For constants known to be valid.
    pub(crate) const fn ymd(year: i32, month: u8, day: u8) -> Date {
        match Date::new(year, month, day) {
            Some(date) => date,
            None => panic!("not a date"),
        }
    }

    pub fn year(self) -> i32 {
        self.year
    }

    /// 1 to 12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// 1 to 31.
    pub fn day(self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    pub fn days_since_epoch(self) -> i64 {
        let year = i64::from(self.year) - i64::from(self.month <= 2);
        let era = year.div_euclid(400);
        let yoe = year.rem_euclid(400);
        let month = i64::from(self.month);
        let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5
            + i64::from(self.day)
            - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The day before.
    pub fn previous_day(self) -> Date {
        Date::from_days_since_epoch(self.days_since_epoch() - 1)
    }

    /// The day `days` after 1970-01-01 (Howard Hinnant's civil_from_days).
    pub fn from_days_since_epoch(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// Today in UTC by the system clock. (Every dated answer asks: the
    /// day's date is kept per thread and only worked out when it changes.)
    pub fn today_utc() -> Date {
        thread_local! {
            static LAST: Cell<Option<(i64, Date)>> = const { Cell::new(None) };
        }
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let days = (seconds / 86_400) as i64;
        LAST.with(|last| match last.get() {
            Some((known, date)) if known == days => date,
            _ => {
                let date = Date::from_days_since_epoch(days);
                last.set(Some((days, date)));
                date
            }
        })
    }
}

const fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl FromStr for Date {
    type Err = DateError;

    fn from_str(text: &str) -> Result<Date, DateError> {
        let error = |reason| DateError {
            text: text.to_owned(),
            reason,
        };
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(error("not in the form YYYY-MM-DD"));
        }
        let number = |range: std::ops::Range<usize>| -> Option<u32> {
            let part = &text[range];
            part.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| part.parse().ok())
                .flatten()
        };
        let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10))
        else {
            return Err(error("year, month and day must be digits"));
        };
        if !(1..=12).contains(&month) {
            return Err(error("the month must be 01 to 12"));
        }
        Date::new(year as i32, month as u8, day as u8)
            .ok_or_else(|| error("that month has no such day"))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Where "today" comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Clock {
    /// The system's date, read at every request.
    #[default]
    System,
    /// A fixed day (`--today`).
    Fixed(Date),
}

impl Clock {
    pub fn today(self) -> Date {
        match self {
            Clock::System => Date::today_utc(),
            Clock::Fixed(date) => date,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_days_parse_and_print_back() {
        for text in ["2026-10-01", "2027-04-01", "2024-02-29", "2000-02-29"] {
            assert_eq!(text.parse::<Date>().unwrap().to_string(), text);
        }
    }

    #[test]
    fn impossible_days_are_refused_with_the_reason() {
        for (text, reason) in [
            ("2026-13-40", "the month must be 01 to 12"),
            ("2026-02-29", "that month has no such day"),
            ("2100-02-29", "that month has no such day"),
            ("2026-04-31", "that month has no such day"),
            ("2026-4-1", "not in the form YYYY-MM-DD"),
            ("2026-0a-01", "year, month and day must be digits"),
            ("", "not in the form YYYY-MM-DD"),
        ] {
            let error = text.parse::<Date>().unwrap_err().to_string();
            assert!(error.contains(reason), "{text}: {error}");
        }
    }

    #[test]
    fn days_since_epoch_match_the_calendar() {
        assert_eq!(Date::from_days_since_epoch(0), Date::ymd(1970, 1, 1));
        assert_eq!(Date::from_days_since_epoch(20_454), Date::ymd(2026, 1, 1));
        assert_eq!(Date::from_days_since_epoch(20_727), Date::ymd(2026, 10, 1));
        assert_eq!(Date::from_days_since_epoch(20_909), Date::ymd(2027, 4, 1));
        for date in [
            Date::ymd(1970, 1, 1),
            Date::ymd(2024, 2, 29),
            Date::ymd(2026, 10, 1),
            Date::ymd(2027, 4, 1),
            Date::ymd(2100, 3, 1),
        ] {
            let days = date.days_since_epoch();
            assert_eq!(Date::from_days_since_epoch(days), date);
        }
        assert_eq!(
            Date::ymd(2027, 1, 1).previous_day(),
            Date::ymd(2026, 12, 31)
        );
        assert_eq!(Date::ymd(2024, 3, 1).previous_day(), Date::ymd(2024, 2, 29));
    }
}
