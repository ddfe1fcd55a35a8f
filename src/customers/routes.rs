//! The staff pages for customers: the list, and one customer's page with its open tickets,
//! SLA figures for the last 30 days, services, hosts and contacts. Admins create customers and
//! edit them from the same pages (one line per domain, service, host or contact).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use jiff::SignedDuration;
use serde::Deserialize;

use super::{Changes, Customer, CustomerCode, Host, NewCustomer, Service, Summary};
use crate::auth::sessions::FlashKind;
use crate::error::{AppError, Result};
use crate::sla::report::ReportLine;
use crate::state::AppState;
use crate::tickets::Ticket;
use crate::tickets::search::{Search, find};
use crate::web::extract::{Admin, Staff};
use crate::web::page::{Page, flash};
use crate::web::visitor::Visitor;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/customers", get(index).post(create))
        .route("/customers/{code}", get(show))
        .route("/customers/{code}/edit", post(edit))
}

#[derive(Template, WebTemplate)]
#[template(path = "customers/index.html")]
struct IndexPage {
    page: Page,
    customers: Vec<Summary>,
    policies: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "customers/show.html")]
struct ShowPage {
    page: Page,
    c: Customer,
    open: Vec<Ticket>,
    open_total: String,
    sla: Vec<ReportLine>,
    policies: Vec<String>,
    edit: EditForm,
}

fn policy_names(st: &AppState) -> Vec<String> {
    st.config.policies.iter().map(|p| p.name.clone()).collect()
}

async fn index(State(st): State<AppState>, v: Visitor, Staff(_): Staff) -> Result<IndexPage> {
    let mut tx = st.db.begin_read().await?;
    let customers = super::list(&mut tx).await?;
    tx.commit().await?;
    Ok(IndexPage {
        customers,
        policies: policy_names(&st),
        page: Page::new(&st, &v, "Customers").await,
    })
}

async fn show(
    State(st): State<AppState>,
    v: Visitor,
    Staff(me): Staff,
    Path(code): Path<String>,
) -> Result<ShowPage> {
    let mut tx = st.db.begin_read().await?;
    let c = super::get(&mut tx, &code)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    let now = st.clock.now();
    let found = find(
        &st.db,
        Search {
            query: Some("Status = '__Active__'"),
            order: Some("priority,due"),
            page: 1,
            per_page: 50,
            current_user: Some(&me.username),
            after: None,
            exact_total: false,
            customer: Some(&c.code),
        },
        now,
    )
    .await?;
    let open_total = if found.total_exact {
        found.total.to_string()
    } else {
        format!("{}+", found.total)
    };
    let from = now
        .checked_sub(SignedDuration::from_hours(24 * 30))
        .unwrap_or(now);
    let sla = crate::sla::api::lines(&st, from, now)
        .await?
        .into_iter()
        .filter(|l| l.customer.as_deref() == Some(c.code.as_str()))
        .collect();
    Ok(ShowPage {
        edit: EditForm::of(&c),
        open: found.items,
        open_total,
        sla,
        policies: policy_names(&st),
        page: Page::new(&st, &v, format!("{} ({})", c.name, c.code)).await,
        c,
    })
}

/// The admin's form: plain lines, one item each, as operators keep such lists in text files.
#[derive(Debug, Default, Deserialize)]
pub struct EditForm {
    #[serde(default)]
    code: String,
    name: String,
    #[serde(default)]
    sla: String,
    #[serde(default)]
    domains: String,
    /// `kind identifier [description...]` per line.
    #[serde(default)]
    services: String,
    /// `name [address]` per line.
    #[serde(default)]
    hosts: String,
    /// A username or address per line.
    #[serde(default)]
    contacts: String,
}

impl EditForm {
    fn of(c: &Customer) -> EditForm {
        EditForm {
            code: c.code.clone(),
            name: c.name.clone(),
            sla: c.sla.clone().unwrap_or_default(),
            domains: c.domains.join("\n"),
            services: c
                .services
                .iter()
                .map(|s| {
                    format!("{} {} {}", s.kind, s.identifier, s.description)
                        .trim_end()
                        .to_owned()
                })
                .collect::<Vec<_>>()
                .join("\n"),
            hosts: c
                .hosts
                .iter()
                .map(|h| {
                    format!("{} {}", h.name, h.address.as_deref().unwrap_or(""))
                        .trim_end()
                        .to_owned()
                })
                .collect::<Vec<_>>()
                .join("\n"),
            contacts: c
                .contacts
                .iter()
                .map(|x| x.username.clone())
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    fn lines(s: &str) -> impl Iterator<Item = &str> {
        s.lines().map(str::trim).filter(|l| !l.is_empty())
    }

    fn services(&self) -> Result<Vec<Service>> {
        Self::lines(&self.services)
            .enumerate()
            .map(|(i, l)| {
                let mut parts = l.splitn(3, char::is_whitespace);
                match (parts.next(), parts.next()) {
                    (Some(kind), Some(identifier)) => Ok(Service {
                        kind: kind.to_owned(),
                        identifier: identifier.to_owned(),
                        description: parts.next().unwrap_or("").trim().to_owned(),
                    }),
                    _ => Err(AppError::invalid(
                        "services",
                        format!("line {}: write KIND IDENTIFIER [DESCRIPTION]", i + 1),
                    )),
                }
            })
            .collect()
    }

    fn hosts(&self) -> Vec<Host> {
        Self::lines(&self.hosts)
            .map(|l| {
                let mut parts = l.split_whitespace();
                Host {
                    name: parts.next().unwrap_or("").to_owned(),
                    address: parts.next().map(str::to_owned),
                }
            })
            .collect()
    }

    fn sla(&self) -> Option<String> {
        Some(self.sla.trim().to_owned()).filter(|s| !s.is_empty())
    }

    fn list(s: &str) -> Vec<String> {
        Self::lines(s).map(str::to_owned).collect()
    }
}

/// A refusal the admin can fix goes back as a message; anything else is an error page.
async fn refused(st: &AppState, v: &Visitor, back: &str, e: AppError) -> Result<Response> {
    match e {
        AppError::Invalid { .. } | AppError::BadRequest(_) | AppError::Conflict(_) => {
            flash(st, v, FlashKind::Error, &e.to_string()).await?;
            Ok(Redirect::to(back).into_response())
        }
        other => Err(other),
    }
}

async fn create(
    State(st): State<AppState>,
    v: Visitor,
    Admin(_): Admin,
    Form(f): Form<EditForm>,
) -> Result<Response> {
    let result: Result<String> = async {
        let code = CustomerCode::parse(f.code.trim()).map_err(|m| AppError::invalid("code", m))?;
        super::check_policy(&st.config.policies, f.sla().as_deref())?;
        let new = NewCustomer {
            name: f.name.clone(),
            sla: f.sla(),
            domains: EditForm::list(&f.domains),
            services: f.services()?,
            hosts: f.hosts(),
            code,
        };
        let mut tx = st.db.begin().await?;
        super::create(&mut tx, &new, st.clock.now()).await?;
        tx.commit().await?;
        Ok(new.code.as_str().to_owned())
    }
    .await;
    match result {
        Ok(code) => {
            flash(
                &st,
                &v,
                FlashKind::Success,
                &format!("Customer {code} created."),
            )
            .await?;
            Ok(Redirect::to(&format!("/customers/{code}")).into_response())
        }
        Err(e) => refused(&st, &v, "/customers", e).await,
    }
}

async fn edit(
    State(st): State<AppState>,
    v: Visitor,
    Admin(_): Admin,
    Path(code): Path<String>,
    Form(f): Form<EditForm>,
) -> Result<Response> {
    let back = format!(
        "/customers/{}",
        CustomerCode::parse(&code)
            .map_err(|_| AppError::NotFound)?
            .as_str()
    );
    let result: Result<()> = async {
        let sla = f.sla();
        super::check_policy(&st.config.policies, sla.as_deref())?;
        let changes = Changes {
            name: Some(f.name.clone()),
            sla: Some(sla),
            domains: Some(EditForm::list(&f.domains)),
            services: Some(f.services()?),
            hosts: Some(f.hosts()),
            contacts: Some(EditForm::list(&f.contacts)),
        };
        let mut tx = st.db.begin().await?;
        super::update(&mut tx, &code, &changes, st.clock.now()).await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => {
            flash(&st, &v, FlashKind::Success, "Customer saved.").await?;
            Ok(Redirect::to(&back).into_response())
        }
        Err(e) => refused(&st, &v, &back, e).await,
    }
}
