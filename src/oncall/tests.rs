use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::{OncallError, Rotation};
use crate::config::RawOncall;

/// The contract's example: Rome, hand-off Monday 09:00, from 2026-11-02 (a Monday).
fn noc(start: &str, handoff: &str) -> Rotation {
    Rotation::from_config(&RawOncall {
        name: "noc".into(),
        timezone: "Europe/Rome".into(),
        start: start.into(),
        handoff: handoff.into(),
        rotation: vec!["alice".into(), "bob".into(), "dave".into()],
    })
    .expect("rotation")
}

fn rome(s: &str) -> Timestamp {
    let dt: jiff::civil::DateTime = s.parse().expect("civil");
    TimeZone::get("Europe/Rome")
        .expect("zone")
        .to_timestamp(dt)
        .expect("instant")
}

fn who(r: &Rotation, at: &str) -> (String, String) {
    let d = r.duty_at(rome(at)).expect("duty");
    (d.primary, d.backup)
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_owned(), b.to_owned())
}

#[test]
fn week_k_after_the_start_has_rotation_k_as_primary_and_the_next_as_backup() {
    let r = noc("2026-11-02", "mon 09:00");
    assert_eq!(who(&r, "2026-11-02 09:00"), pair("alice", "bob"));
    assert_eq!(who(&r, "2026-11-09 08:59"), pair("alice", "bob"));
    assert_eq!(who(&r, "2026-11-09 09:00"), pair("bob", "dave"));
    assert_eq!(who(&r, "2026-11-16 12:00"), pair("dave", "alice"));
    assert_eq!(who(&r, "2026-11-23 09:00"), pair("alice", "bob"));
    let d = r.duty_at(rome("2026-11-18 03:00")).expect("duty");
    assert_eq!(
        (d.since, d.until),
        (rome("2026-11-16 09:00"), rome("2026-11-23 09:00"))
    );
}

#[test]
fn the_first_hand_off_is_the_first_on_or_after_the_start_date() {
    // 2026-11-04 is a Wednesday: the rotation begins on Monday the 9th at 09:00.
    let r = noc("2026-11-04", "mon 09:00");
    let d = r.duty_at(rome("2026-11-09 09:00")).expect("duty");
    assert_eq!(
        (d.primary.as_str(), d.since),
        ("alice", rome("2026-11-09 09:00"))
    );
    // Before it, the rotation counted backwards: the week before is dave's.
    assert_eq!(who(&r, "2026-11-05 12:00"), pair("dave", "alice"));
}

#[test]
fn the_hand_off_stays_at_local_time_across_dst_changes() {
    // Clocks go forward on Sunday 2027-03-28 and back on Sunday 2026-10-25.
    let r = noc("2026-11-02", "mon 09:00");
    let spring = r.duty_at(rome("2027-03-25 12:00")).expect("duty");
    assert_eq!(spring.until, rome("2027-03-29 09:00"));
    assert_eq!(spring.since.duration_until(spring.until).as_hours(), 167);
    let r = noc("2026-10-05", "mon 09:00");
    let autumn = r.duty_at(rome("2026-10-22 12:00")).expect("duty");
    assert_eq!(autumn.until, rome("2026-10-26 09:00"));
    assert_eq!(autumn.since.duration_until(autumn.until).as_hours(), 169);
}

#[test]
fn a_hand_off_inside_the_spring_gap_happens_just_after_it() {
    // 02:30 does not exist on Sunday 2027-03-28 in Rome: that hand-off is at 03:30.
    let r = noc("2026-11-01", "sun 02:30");
    let d = r.duty_at(rome("2027-03-28 04:00")).expect("duty");
    assert_eq!(d.since, rome("2027-03-28 03:30"));
}

#[test]
fn a_bad_rotation_is_refused_with_the_reason() {
    let raw = |handoff: &str, people: &[&str]| RawOncall {
        name: "noc".into(),
        timezone: "Europe/Rome".into(),
        start: "2026-11-02".into(),
        handoff: handoff.into(),
        rotation: people.iter().map(|p| (*p).to_owned()).collect(),
    };
    let e = Rotation::from_config(&raw("monday 9", &["a", "b"])).expect_err("bad hand-off");
    assert!(e.to_string().contains("handoff"), "{e}");
    assert!(matches!(
        Rotation::from_config(&raw("mon 09:00", &["a"])),
        Err(OncallError::Invalid { .. })
    ));
}

mod overrides {
    use jiff::{SignedDuration, Timestamp};
    use proptest::prelude::*;

    use super::{noc, rome};
    use crate::oncall::{Duty, NewOverride, OncallError, Override, apply, timeline};

    /// An override of "noc"; a higher id was created later.
    fn ov(id: i64, from: &str, to: &str, primary: &str, backup: Option<&str>) -> Override {
        Override {
            id,
            rotation: "noc".into(),
            starts_at: rome(from),
            ends_at: rome(to),
            primary: primary.into(),
            backup: backup.map(str::to_owned),
            reason: String::new(),
            created_by: "admin".into(),
            created_at: rome("2026-10-01 00:00") + SignedDuration::from_mins(id),
        }
    }

    /// The rotation's duty at `at` (Rome local time), overrides laid over it.
    fn at(list: &[Override], when: &str) -> (Duty, Option<i64>) {
        let t = rome(when);
        let e = apply(&noc("2026-11-02", "mon 09:00").duty_at(t).unwrap(), t, list);
        (e.duty, e.override_id)
    }

    fn people(d: &Duty) -> (&str, &str) {
        (d.primary.as_str(), d.backup.as_str())
    }

    #[test]
    fn without_overrides_the_rotation_answers_unchanged() {
        let r = noc("2026-11-02", "mon 09:00");
        let base = r.duty_at(rome("2026-11-18 12:00")).unwrap();
        let e = apply(&base, rome("2026-11-18 12:00"), &[]);
        assert_eq!((e.duty, e.override_id), (base, None));
    }

    #[test]
    fn an_override_holds_from_its_start_inclusive_to_its_end_exclusive() {
        // Week of 16 Nov: dave primary, alice backup. erin stands in on Wednesday.
        let list = [ov(1, "2026-11-18 08:00", "2026-11-19 08:00", "erin", None)];
        let (d, id) = at(&list, "2026-11-18 07:59");
        assert_eq!((people(&d), id), (("dave", "alice"), None));
        assert_eq!(d.since, rome("2026-11-16 09:00"));
        assert_eq!(
            d.until,
            rome("2026-11-18 08:00"),
            "cut to the override's start"
        );

        let (d, id) = at(&list, "2026-11-18 08:00");
        assert_eq!(
            (people(&d), id),
            (("erin", "alice"), Some(1)),
            "backup kept"
        );
        assert_eq!(
            (d.since, d.until),
            (rome("2026-11-18 08:00"), rome("2026-11-19 08:00"))
        );

        let (d, id) = at(&list, "2026-11-19 08:00");
        assert_eq!((people(&d), id), (("dave", "alice"), None));
        assert_eq!(
            (d.since, d.until),
            (rome("2026-11-19 08:00"), rome("2026-11-23 09:00"))
        );
    }

    #[test]
    fn an_override_with_a_backup_replaces_both() {
        let list = [ov(
            1,
            "2026-11-18 08:00",
            "2026-11-19 08:00",
            "erin",
            Some("frank"),
        )];
        assert_eq!(people(&at(&list, "2026-11-18 12:00").0), ("erin", "frank"));
    }

    #[test]
    fn where_overrides_overlap_the_one_created_last_wins() {
        // A holiday all week (older), and a one-day swap inside it (newer).
        let list = [
            ov(
                1,
                "2026-11-17 00:00",
                "2026-11-21 00:00",
                "erin",
                Some("frank"),
            ),
            ov(2, "2026-11-18 00:00", "2026-11-19 00:00", "gina", None),
        ];
        let (d, id) = at(&list, "2026-11-17 12:00");
        assert_eq!((people(&d), id), (("erin", "frank"), Some(1)));
        assert_eq!(
            (d.since, d.until),
            (rome("2026-11-17 00:00"), rome("2026-11-18 00:00"))
        );
        let (d, id) = at(&list, "2026-11-18 12:00");
        assert_eq!((people(&d), id), (("gina", "alice"), Some(2)));
        let (d, id) = at(&list, "2026-11-19 12:00");
        assert_eq!((people(&d), id), (("erin", "frank"), Some(1)));
        assert_eq!(
            (d.since, d.until),
            (rome("2026-11-19 00:00"), rome("2026-11-21 00:00")),
            "the older override resumes where the newer ends"
        );

        // The other way round: a newer override over an older one inside it hides it
        // entirely, and the older one's bounds cut nothing.
        let list = [
            ov(1, "2026-11-18 00:00", "2026-11-19 00:00", "gina", None),
            ov(2, "2026-11-17 00:00", "2026-11-21 00:00", "erin", None),
        ];
        let (d, id) = at(&list, "2026-11-18 12:00");
        assert_eq!((people(&d), id), (("erin", "alice"), Some(2)));
        assert_eq!(
            (d.since, d.until),
            (rome("2026-11-17 00:00"), rome("2026-11-21 00:00"))
        );
    }

    #[test]
    fn of_two_overrides_created_in_the_same_instant_the_later_id_wins() {
        let mut a = ov(1, "2026-11-18 00:00", "2026-11-19 00:00", "erin", None);
        let mut b = ov(2, "2026-11-18 00:00", "2026-11-19 00:00", "gina", None);
        a.created_at = rome("2026-10-01 00:00");
        b.created_at = a.created_at;
        assert_eq!(at(&[b, a], "2026-11-18 12:00").1, Some(2));
    }

    #[test]
    fn an_override_across_a_hand_off_ends_its_duty_at_the_hand_off() {
        // erin covers Sunday to Tuesday; the rotation hands off on Monday 09:00 (dave → alice).
        let list = [ov(1, "2026-11-22 00:00", "2026-11-24 00:00", "erin", None)];
        let (d, _) = at(&list, "2026-11-22 12:00");
        assert_eq!(people(&d), ("erin", "alice"));
        assert_eq!(
            d.until,
            rome("2026-11-23 09:00"),
            "the next hand-off comes first"
        );
        let (d, _) = at(&list, "2026-11-23 12:00");
        assert_eq!(people(&d), ("erin", "bob"), "the new week's backup is kept");
        assert_eq!(
            (d.since, d.until),
            (rome("2026-11-23 09:00"), rome("2026-11-24 00:00"))
        );
    }

    #[test]
    fn an_override_outside_the_week_changes_nothing() {
        let list = [ov(1, "2026-11-25 00:00", "2026-11-26 00:00", "erin", None)];
        let (d, id) = at(&list, "2026-11-18 12:00");
        assert_eq!((people(&d), id), (("dave", "alice"), None));
        assert_eq!(d.until, rome("2026-11-23 09:00"));
    }

    #[test]
    fn the_timeline_cuts_the_weeks_where_overrides_begin_and_end() {
        let r = noc("2026-11-02", "mon 09:00");
        let list = [ov(1, "2026-11-18 08:00", "2026-11-19 08:00", "erin", None)];
        let rows = timeline(
            &r,
            &list,
            rome("2026-11-17 12:00"),
            rome("2026-11-30 12:00"),
        )
        .unwrap();
        let got: Vec<(&str, Timestamp, Option<i64>)> = rows
            .iter()
            .map(|e| (e.duty.primary.as_str(), e.duty.since, e.override_id))
            .collect();
        assert_eq!(
            got,
            vec![
                ("dave", rome("2026-11-16 09:00"), None),
                ("erin", rome("2026-11-18 08:00"), Some(1)),
                ("dave", rome("2026-11-19 08:00"), None),
                ("alice", rome("2026-11-23 09:00"), None),
                ("bob", rome("2026-11-30 09:00"), None),
            ]
        );
    }

    #[test]
    fn a_new_override_needs_an_interval_and_a_primary() {
        let (a, b) = (rome("2026-11-18 08:00"), rome("2026-11-19 08:00"));
        let e = NewOverride::parse(b, a, "erin", None, "").unwrap_err();
        assert!(matches!(e, OncallError::BadOverride(_)));
        assert!(e.to_string().contains("ends_at"), "{e}");
        let e = NewOverride::parse(a, a, "erin", None, "").unwrap_err();
        assert!(e.to_string().contains("ends_at"), "an empty interval: {e}");
        let e = NewOverride::parse(a, b, "  ", None, "").unwrap_err();
        assert!(e.to_string().contains("primary"), "{e}");
        let e = NewOverride::parse(a, b, "erin", Some("erin"), "").unwrap_err();
        assert!(e.to_string().contains("backup"), "{e}");
        let n = NewOverride::parse(a, b, " erin ", Some(" "), " holiday ").unwrap();
        assert_eq!(
            (n.primary(), n.backup(), n.reason()),
            ("erin", None, "holiday")
        );
    }

    proptest! {
        /// Whatever the overrides, the answer holds for its whole stretch: the same people at
        /// every instant of `[since, until)`, and `at` inside it.
        #[test]
        fn the_answer_holds_from_since_until_until(
            spans in prop::collection::vec((0i64..600, 1i64..300, 0usize..3, any::<bool>()), 0..6),
            at_h in 0i64..720,
            probes in prop::collection::vec(0.0f64..1.0, 1..8),
        ) {
            let r = noc("2026-11-02", "mon 09:00");
            let origin = rome("2026-11-10 00:00");
            let hours = |h: i64| origin + SignedDuration::from_hours(h);
            let names = ["erin", "frank", "gina"];
            let list: Vec<Override> = spans
                .iter()
                .enumerate()
                .map(|(i, (start, len, who, keep))| {
                    let id = i64::try_from(i).unwrap() + 1;
                    Override {
                        id,
                        rotation: "noc".into(),
                        starts_at: hours(*start),
                        ends_at: hours(start + len),
                        primary: names[*who].into(),
                        backup: (!keep).then(|| "zed".to_owned()),
                        reason: String::new(),
                        created_by: "t".into(),
                        created_at: origin + SignedDuration::from_secs(id),
                    }
                })
                .collect();
            let effective = |t: Timestamp| apply(&r.duty_at(t).unwrap(), t, &list);
            let t = hours(at_h);
            let e = effective(t);
            prop_assert!(e.duty.since <= t && t < e.duty.until);
            let width = e.duty.since.duration_until(e.duty.until).as_secs_f64();
            for p in probes {
                let u = e.duty.since + SignedDuration::from_secs_f64(width * p);
                let f = effective(u);
                prop_assert_eq!(
                    (&f.duty, f.override_id),
                    (&e.duty, e.override_id),
                    "at {} inside [{}, {})", u, e.duty.since, e.duty.until
                );
            }
        }
    }
}
