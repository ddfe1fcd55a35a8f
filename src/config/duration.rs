//! Durations as operators write them in opsdesk.toml: "30s", "15m", "4h", "3d", "1h30m".
//! A day is always 24 hours (CONTRACT §2: "1d" is 24 business hours on a calendar).

use std::time::Duration;

/// Parses `"1h30m"` style text. Units: ms, s, m, h, d, w (milliseconds for network timeouts
/// such as RADIUS's). Zero is refused by callers that need it.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("is empty; write a duration such as 30s, 15m, 4h or 3d".into());
    }
    let mut total_ms: u64 = 0;
    let mut digits = String::new();
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let (unit, name) = match c {
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                (1, "ms")
            }
            's' => (1_000, "s"),
            'm' => (60_000, "m"),
            'h' => (3_600_000, "h"),
            'd' => (86_400_000, "d"),
            'w' => (604_800_000, "w"),
            _ => {
                return Err(format!(
                    "\"{t}\" is not a duration: unknown unit '{c}' (use ms, s, m, h, d or w)"
                ));
            }
        };
        let n: u64 = digits.parse().map_err(|_| {
            format!("\"{t}\" is not a duration: a number must come before '{name}'")
        })?;
        digits.clear();
        total_ms = n
            .checked_mul(unit)
            .and_then(|v| total_ms.checked_add(v))
            .ok_or_else(|| format!("\"{t}\" is too long a duration"))?;
    }
    if !digits.is_empty() {
        return Err(format!(
            "\"{t}\" is not a duration: the number {digits} has no unit (write {digits}s, {digits}m, …)"
        ));
    }
    Ok(Duration::from_millis(total_ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_usual_forms_parse() {
        assert_eq!(parse_duration("30s").unwrap().as_secs(), 30);
        assert_eq!(parse_duration("15m").unwrap().as_secs(), 900);
        assert_eq!(parse_duration("1h30m").unwrap().as_secs(), 5_400);
        assert_eq!(parse_duration("3d").unwrap().as_secs(), 259_200);
        assert_eq!(parse_duration("500ms").unwrap().as_millis(), 500);
        assert_eq!(parse_duration("1s250ms").unwrap().as_millis(), 1_250);
        assert_eq!(
            parse_duration("2m").unwrap().as_secs(),
            120,
            "m stays minutes"
        );
    }

    #[test]
    fn bad_forms_say_what_is_wrong() {
        assert!(parse_duration("15").unwrap_err().contains("no unit"));
        assert!(parse_duration("15x").unwrap_err().contains("unknown unit"));
        assert!(
            parse_duration("h")
                .unwrap_err()
                .contains("number must come")
        );
        assert!(parse_duration("").unwrap_err().contains("empty"));
    }

    proptest! {
        #[test]
        fn any_text_parses_or_is_refused_without_panic(s in ".{0,24}") {
            let _ = parse_duration(&s);
        }

        #[test]
        fn written_seconds_round_trip(n in 0u64..10_000_000) {
            prop_assert_eq!(parse_duration(&format!("{n}s")).unwrap().as_secs(), n);
        }
    }
}
