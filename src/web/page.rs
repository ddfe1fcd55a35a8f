//! What every page's layout needs: the title, the signed-in user for the navigation, the CSRF
//! token for forms, a one-time flash message, and the static files' version.

use crate::auth::User;
use crate::auth::sessions::{self, Flash};
use crate::state::AppState;

use super::visitor::Visitor;

pub struct Page {
    pub title: String,
    pub user: Option<User>,
    pub csrf: String,
    pub flash: Option<Flash>,
    pub asset_v: &'static str,
}

impl Page {
    /// Builds the page context; a flash is shown once and then cleared.
    pub async fn new(st: &AppState, v: &Visitor, title: impl Into<String>) -> Page {
        let mut flash = None;
        if let Some(s) = &v.session
            && s.flash.is_some()
        {
            flash = s.flash.clone();
            if let Err(e) = sessions::clear_flash(&st.db, &s.id_hash).await {
                tracing::warn!(error = %e, "could not clear a shown flash message");
            }
        }
        Page {
            title: title.into(),
            user: v.user.clone(),
            csrf: v
                .session
                .as_ref()
                .map(|s| s.csrf_token.clone())
                .unwrap_or_default(),
            flash,
            asset_v: super::assets::version(),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| u.role == crate::auth::Role::Admin)
    }

    pub fn is_staff(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role.is_staff())
    }
}

/// Leaves a one-time message for the next page this session shows (after a redirect).
pub async fn flash(
    st: &AppState,
    v: &Visitor,
    kind: crate::auth::sessions::FlashKind,
    msg: &str,
) -> crate::error::Result<()> {
    if let Some(s) = &v.session {
        sessions::set_flash(&st.db, &s.id_hash, kind, msg).await?;
    }
    Ok(())
}
