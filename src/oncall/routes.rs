//! The staff page `/oncall` (issue 5): per rotation, who is on duty now and the next weeks of
//! hand-offs with overrides marked, and forms to add and remove overrides. Times are shown and
//! typed in the rotation's zone, as the people on call think of their week.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

use super::api::refused;
use super::{Effective, NewOverride, OncallError, Override, Rotation};
use crate::auth::sessions::{self, FlashKind};
use crate::config::RawOncall;
use crate::db::Tx;
use crate::error::Result;
use crate::state::AppState;
use crate::web::extract::Staff;
use crate::web::page::Page;
use crate::web::visitor::Visitor;

/// How far ahead the page looks (issue 5: "the next weeks").
const WEEKS: i64 = 8;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/oncall", get(index))
        .route("/oncall/{name}/overrides", post(add))
        .route("/oncall/{name}/overrides/{id}/delete", post(remove))
}

// The template lives here rather than in templates/ until templates/oncall/ is set up; it
// extends the shared layout like every other page.
#[derive(Template, WebTemplate)]
#[template(
    ext = "html",
    source = r#"{% extends "base.html" %}
{% block content %}
<h1>On call</h1>
{% if rotations.is_empty() %}<p class="muted">No rotations are configured ([[oncall]] in the config).</p>{% endif %}
{% for r in rotations %}
<section class="oncall" id="oncall-{{ r.name }}" aria-labelledby="oncall-{{ r.name }}-h">
<h2 id="oncall-{{ r.name }}-h">{{ r.name }} <span class="muted">({{ r.zone }})</span></h2>
{% if let Some(e) = r.error.as_ref() %}<p class="error" role="alert">{{ e }}</p>{% endif %}
{% if let Some(n) = r.now.as_ref() %}
<dl class="facts">
  <dt>Primary now</dt><dd><strong>{{ n.primary }}</strong></dd>
  <dt>Backup now</dt><dd>{{ n.backup }}</dd>
  <dt>Until</dt><dd><time datetime="{{ n.until_iso }}">{{ n.until }}</time></dd>
  {% if let Some(note) = n.note.as_ref() %}<dt>Override</dt><dd>{{ note }}</dd>{% endif %}
</dl>
{% endif %}
{% if !r.rows.is_empty() %}
<h3>The next {{ weeks }} weeks</h3>
<div class="table-wrap">
<table>
  <thead><tr><th scope="col">From</th><th scope="col">Until</th><th scope="col">Primary</th><th scope="col">Backup</th><th scope="col">Override</th></tr></thead>
  <tbody>
  {% for row in r.rows %}
  <tr{% if row.note.is_some() %} class="override"{% endif %}>
    <td><time datetime="{{ row.since_iso }}">{{ row.since }}</time></td>
    <td><time datetime="{{ row.until_iso }}">{{ row.until }}</time></td>
    <td>{{ row.primary }}</td><td>{{ row.backup }}</td>
    <td>{% if let Some(note) = row.note.as_ref() %}{{ note }}{% endif %}</td>
  </tr>
  {% endfor %}
  </tbody>
</table>
</div>
{% endif %}
<h3>Overrides</h3>
{% if r.overrides.is_empty() %}<p class="muted">None current or to come.</p>{% else %}
<div class="table-wrap">
<table>
  <thead><tr><th scope="col">#</th><th scope="col">From</th><th scope="col">Until</th><th scope="col">Primary</th><th scope="col">Backup</th><th scope="col">Reason</th><th scope="col">By</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
  <tbody>
  {% for o in r.overrides %}
  <tr>
    <td>{{ o.id }}</td>
    <td><time datetime="{{ o.starts_iso }}">{{ o.starts }}</time>{% if o.current %} <strong>(now)</strong>{% endif %}</td>
    <td><time datetime="{{ o.ends_iso }}">{{ o.ends }}</time></td>
    <td>{{ o.primary }}</td><td>{{ o.backup }}</td><td class="wrap">{{ o.reason }}</td><td>{{ o.created_by }}</td>
    <td class="actions"><form method="post" action="/oncall/{{ r.name|urlencode_strict }}/overrides/{{ o.id }}/delete" class="inline">
      <input type="hidden" name="csrf_token" value="{{ page.csrf }}">
      <button type="submit" class="danger" aria-label="Delete override {{ o.id }} of {{ r.name }}">Delete</button>
    </form></td>
  </tr>
  {% endfor %}
  </tbody>
</table>
</div>
{% endif %}
{% if r.error.is_none() %}
<form method="post" action="/oncall/{{ r.name|urlencode_strict }}/overrides" class="row">
  <input type="hidden" name="csrf_token" value="{{ page.csrf }}">
  <label>From <input type="datetime-local" name="starts_at" required></label>
  <label>Until <input type="datetime-local" name="ends_at" required></label>
  <label>Primary <input name="primary" list="oncall-{{ r.name }}-people" maxlength="64" required></label>
  <label>Backup <input name="backup" list="oncall-{{ r.name }}-people" maxlength="64" placeholder="(keep)"></label>
  <label>Reason <input name="reason" maxlength="500"></label>
  <datalist id="oncall-{{ r.name }}-people">{% for p in r.people %}<option value="{{ p }}">{% endfor %}</datalist>
  <button type="submit">Add override</button>
  <span class="muted">Times in {{ r.zone }}.</span>
</form>
{% endif %}
</section>
{% endfor %}
{% endblock %}"#
)]
struct OncallPage {
    page: Page,
    weeks: i64,
    rotations: Vec<RotationView>,
}

struct RotationView {
    name: String,
    zone: String,
    /// Why the rotation cannot be shown (it did not build from the config).
    error: Option<String>,
    now: Option<NowView>,
    rows: Vec<RowView>,
    overrides: Vec<OverrideView>,
    people: Vec<String>,
}

struct NowView {
    primary: String,
    backup: String,
    until: String,
    until_iso: String,
    note: Option<String>,
}

struct RowView {
    since: String,
    since_iso: String,
    until: String,
    until_iso: String,
    primary: String,
    backup: String,
    /// Set when an override decides this stretch.
    note: Option<String>,
}

struct OverrideView {
    id: i64,
    starts: String,
    starts_iso: String,
    ends: String,
    ends_iso: String,
    primary: String,
    backup: String,
    reason: String,
    created_by: String,
    current: bool,
}

async fn index(State(st): State<AppState>, v: Visitor, Staff(_): Staff) -> Result<OncallPage> {
    let now = st.clock.now();
    let mut tx = st.db.begin_read().await?;
    let mut rotations = Vec::with_capacity(st.config.oncall.len());
    for raw in &st.config.oncall {
        rotations.push(match view(&mut tx, raw, now).await {
            Ok(r) => r,
            Err(OncallError::Store(e)) => return Err(e.into()),
            // One rotation the server cannot count does not hide the others.
            Err(e) => RotationView {
                name: raw.name.clone(),
                zone: raw.timezone.clone(),
                error: Some(e.to_string()),
                now: None,
                rows: Vec::new(),
                overrides: Vec::new(),
                people: Vec::new(),
            },
        });
    }
    tx.commit().await?;
    Ok(OncallPage {
        weeks: WEEKS,
        rotations,
        page: Page::new(&st, &v, "On call").await,
    })
}

async fn view(tx: &mut Tx, raw: &RawOncall, now: Timestamp) -> Result<RotationView, OncallError> {
    let rotation = Rotation::from_config(raw)?;
    let tz = rotation.timezone().clone();
    let range = || OncallError::OutOfRange(raw.name.clone());
    let horizon = now
        .checked_add(SignedDuration::from_hours(WEEKS * 7 * 24))
        .map_err(|_| range())?;
    // Every override that can touch a stretch of the table: from the hand-off before now to
    // the one after the horizon.
    let first = rotation.duty_at(now)?.since;
    let last = rotation.duty_at(horizon)?.until;
    let found = super::overrides_between(tx, &raw.name, first, last).await?;
    let stretches = super::timeline(&rotation, &found, now, horizon)?;
    let upcoming = super::store::upcoming(tx, &raw.name, now).await?;
    let note = |e: &Effective| {
        e.override_id
            .map(|id| match found.iter().find(|o| o.id == id) {
                Some(o) if !o.reason.is_empty() => format!("#{id}: {}", o.reason),
                _ => format!("#{id}"),
            })
    };
    let now_view = stretches.first().map(|e| NowView {
        primary: e.duty.primary.clone(),
        backup: e.duty.backup.clone(),
        until: local(&tz, e.duty.until),
        until_iso: e.duty.until.to_string(),
        note: note(e),
    });
    let rows = stretches
        .iter()
        .map(|e| RowView {
            since: local(&tz, e.duty.since),
            since_iso: e.duty.since.to_string(),
            until: local(&tz, e.duty.until),
            until_iso: e.duty.until.to_string(),
            primary: e.duty.primary.clone(),
            backup: e.duty.backup.clone(),
            note: note(e),
        })
        .collect();
    let overrides = upcoming
        .into_iter()
        .map(|o: Override| OverrideView {
            id: o.id,
            starts: local(&tz, o.starts_at),
            starts_iso: o.starts_at.to_string(),
            ends: local(&tz, o.ends_at),
            ends_iso: o.ends_at.to_string(),
            current: o.covers(now),
            primary: o.primary,
            backup: o.backup.unwrap_or_else(|| "(rotation's)".into()),
            reason: o.reason,
            created_by: o.created_by,
        })
        .collect();
    Ok(RotationView {
        name: raw.name.clone(),
        zone: raw.timezone.clone(),
        error: None,
        now: now_view,
        rows,
        overrides,
        people: rotation.people().to_vec(),
    })
}

/// "Mon 2026-11-23 09:00 CET": the weekday matters most to people on a weekly rotation.
fn local(tz: &TimeZone, t: Timestamp) -> String {
    t.to_zoned(tz.clone())
        .strftime("%a %Y-%m-%d %H:%M %Z")
        .to_string()
}

/// A time typed in the form: the browser's `datetime-local` value (wall-clock time in the
/// rotation's zone; in a DST gap it moves forward, in the repeated hour it takes the first),
/// or a full RFC 3339 instant.
fn typed_instant(tz: &TimeZone, field: &str, s: &str) -> Result<Timestamp, OncallError> {
    let s = s.trim();
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    s.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| tz.to_timestamp(dt).ok())
        .ok_or_else(|| {
            OncallError::BadOverride(if s.is_empty() {
                format!("{field}: required (a date and time)")
            } else {
                format!("{field}: \"{s}\" is not a date and time (2026-12-24 08:00)")
            })
        })
}

#[derive(Debug, Deserialize)]
struct OverrideForm {
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    ends_at: String,
    #[serde(default)]
    primary: String,
    #[serde(default)]
    backup: String,
    #[serde(default)]
    reason: String,
}

async fn add(
    State(st): State<AppState>,
    v: Visitor,
    Staff(me): Staff,
    Path(name): Path<String>,
    Form(f): Form<OverrideForm>,
) -> Result<Response> {
    let rotation = super::rotation(&st.config, &name).map_err(refused)?;
    let tz = rotation.timezone();
    let parsed = typed_instant(tz, "From", &f.starts_at).and_then(|starts| {
        let ends = typed_instant(tz, "Until", &f.ends_at)?;
        NewOverride::parse(starts, ends, &f.primary, Some(&f.backup), &f.reason)
    });
    let new = match parsed {
        Ok(n) => n,
        Err(e @ OncallError::BadOverride(_)) => {
            flash(
                &st,
                &v,
                FlashKind::Error,
                &format!("Override not added: {e}"),
            )
            .await?;
            return Ok(Redirect::to("/oncall").into_response());
        }
        Err(e) => return Err(refused(e)),
    };
    let mut tx = st.db.begin().await?;
    let o = super::add_override(
        &mut tx,
        &st.config,
        &name,
        &new,
        &me.username,
        st.clock.now(),
    )
    .await
    .map_err(refused)?;
    tx.commit().await?;
    tracing::info!(rotation = %name, id = o.id, actor = %me.username, "on-call override added");
    let msg = format!(
        "Override #{} added: {} is primary in {} from {}.",
        o.id,
        o.primary,
        name,
        local(tz, o.starts_at)
    );
    flash(&st, &v, FlashKind::Success, &msg).await?;
    Ok(Redirect::to("/oncall").into_response())
}

async fn remove(
    State(st): State<AppState>,
    v: Visitor,
    Staff(me): Staff,
    Path((name, id)): Path<(String, i64)>,
) -> Result<Response> {
    let mut tx = st.db.begin().await?;
    let gone = super::remove_override(&mut tx, &st.config, &name, id)
        .await
        .map_err(refused)?;
    tx.commit().await?;
    if !gone {
        return Err(crate::error::AppError::NotFound);
    }
    tracing::info!(rotation = %name, id, actor = %me.username, "on-call override removed");
    flash(
        &st,
        &v,
        FlashKind::Info,
        &format!("Override #{id} of {name} deleted."),
    )
    .await?;
    Ok(Redirect::to("/oncall").into_response())
}

async fn flash(st: &AppState, v: &Visitor, kind: FlashKind, msg: &str) -> Result<()> {
    if let Some(s) = &v.session {
        sessions::set_flash(&st.db, &s.id_hash, kind, msg).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_time_is_wall_clock_time_in_the_rotations_zone() {
        let rome = TimeZone::get("Europe/Rome").unwrap();
        let t = typed_instant(&rome, "From", "2026-12-24T08:00").unwrap();
        assert_eq!(t, "2026-12-24T07:00:00Z".parse::<Timestamp>().unwrap());
        let t = typed_instant(&rome, "From", "2026-07-01 08:00").unwrap();
        assert_eq!(t, "2026-07-01T06:00:00Z".parse::<Timestamp>().unwrap());
        let t = typed_instant(&rome, "From", "2026-07-01T08:00:00Z").unwrap();
        assert_eq!(t, "2026-07-01T08:00:00Z".parse::<Timestamp>().unwrap());
        let e = typed_instant(&rome, "Until", "tomorrow").unwrap_err();
        assert!(e.to_string().contains("Until"), "{e}");
        assert_eq!(local(&rome, t), "Wed 2026-07-01 10:00 CEST");
    }
}
