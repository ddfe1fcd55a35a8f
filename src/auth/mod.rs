//! Accounts and sign-in: local users with argon2id passwords, database-backed sessions, scoped
//! API tokens, and login throttling. LDAP and RADIUS users are created and refreshed at each sign-in (`signin`).

pub mod api;
pub mod directory;
pub mod ldap;
pub mod maintenance;
pub mod password;
pub mod radius;
pub mod routes;
pub mod sessions;
mod signin;
mod store;
pub mod throttle;
pub mod tokens;
mod users;

pub use signin::{Directories, Directory, LoginError, authenticate, directories};
pub use users::{
    NewUser, Role, Sender, User, UserError, UserSource, Username, count_users, create_user,
    find_user, find_user_in, list_users, mail_sender, user_by_id,
};

use jiff::Timestamp;

use crate::db::{Db, StoreError};

/// Records a successful sign-in time.
pub async fn touch_login(db: &Db, user_id: i64, now: Timestamp) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    store::users::touch_login(&mut tx, user_id, now).await?;
    tx.commit().await
}
