//! Unix seconds to RFC 3339 (UTC), without a calendar dependency.

/// Formats seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_rfc3339(unix_seconds: i64) -> String {
    let days = unix_seconds.div_euclid(86_400);
    let second_of_day = unix_seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Parses ISO 8601 as Coupa's filters take it: `2024-01-31`, `2024-01-31T10:00`,
/// `2024-01-31T10:00:00Z`, `2024-01-31T10:00:00.123-08:00`, `...+0530`. A date alone is
/// midnight UTC; a time without offset is UTC. Returns seconds since the epoch.
pub fn parse_iso8601(text: &str) -> Option<i64> {
    let text = text.trim();
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    if bytes.len() < 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut seconds = days_from_civil(year, month, day) * 86_400;
    let rest = &text[10..];
    if rest.is_empty() {
        return Some(seconds);
    }
    let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix(' '))?;
    if rest.len() < 5 || rest.as_bytes()[2] != b':' {
        return None;
    }
    let hour = rest
        .get(0..2)?
        .parse::<i64>()
        .ok()
        .filter(|h| (0..24).contains(h))?;
    let minute = rest
        .get(3..5)?
        .parse::<i64>()
        .ok()
        .filter(|m| (0..60).contains(m))?;
    if !rest
        .get(0..2)?
        .bytes()
        .chain(rest.get(3..5)?.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut rest = &rest[5..];
    let mut second = 0;
    if let Some(after) = rest.strip_prefix(':') {
        let part = after.get(0..2)?;
        if !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        second = part.parse::<i64>().ok().filter(|s| (0..61).contains(s))?;
        rest = &after[2..];
        if let Some(fraction) = rest.strip_prefix('.') {
            let length = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if length == 0 {
                return None;
            }
            rest = &fraction[length..];
        }
    }
    seconds += hour * 3600 + minute * 60 + second;
    let offset = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let offset = &rest[1..];
            let (hours, minutes) = match offset.len() {
                5 if offset.as_bytes()[2] == b':' => (offset.get(0..2)?, offset.get(3..5)?),
                4 => (offset.get(0..2)?, offset.get(2..4)?),
                2 => (offset.get(0..2)?, "00"),
                _ => return None,
            };
            if !hours
                .bytes()
                .chain(minutes.bytes())
                .all(|b| b.is_ascii_digit())
            {
                return None;
            }
            let hours: i64 = hours.parse().ok().filter(|h| *h < 24)?;
            let minutes: i64 = minutes.parse().ok().filter(|m| *m < 60)?;
            sign * (hours * 3600 + minutes * 60)
        }
    };
    Some(seconds - offset)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// (year, month, day) to days since 1970-01-01; the inverse of `civil_from_days`.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_index = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or(0)
}

/// Now in milliseconds since the Unix epoch.
pub fn now_unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_rfc3339(1_795_334_332), "2026-11-22T07:58:52Z");
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn parses_the_iso_8601_forms_coupa_filters_use() {
        assert_eq!(parse_iso8601("2026-11-22"), Some(1_795_305_600));
        assert_eq!(parse_iso8601("2026-11-22T07:58:52Z"), Some(1_795_334_332));
        assert_eq!(parse_iso8601("2026-11-22T07:58"), Some(1_795_334_280));
        assert_eq!(
            parse_iso8601("2026-11-21T23:58:52.123-08:00"),
            Some(1_795_334_332)
        );
        assert_eq!(
            parse_iso8601("2026-11-22T13:28:52+0530"),
            Some(1_795_334_332)
        );
        assert_eq!(parse_iso8601("2000-02-29"), Some(951_782_400));
        for bad in [
            "",
            "2026-13-01",
            "2026-02-30",
            "2025-02-29",
            "22-11-2026",
            "2026-11-22T25:00",
            "2026-11-22T10:00X",
            "2026-11-22T10:00:00.+01:00",
            "2026-1a-01",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn parse_inverts_format(seconds in -2_000_000_000i64..4_000_000_000i64) {
            proptest::prop_assert_eq!(parse_iso8601(&format_rfc3339(seconds)), Some(seconds));
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,40}") {
            let _ = parse_iso8601(&text);
        }
    }
}
