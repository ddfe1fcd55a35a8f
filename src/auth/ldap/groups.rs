//! From groups to a role. A user's groups come from two places, because directories record
//! membership differently: `memberOf` on the user's entry (Active Directory, OpenLDAP's
//! memberof overlay, which covers groupOfNames only) and the groups themselves, whose `member`
//! (groupOfNames) or `uniqueMember` (groupOfUniqueNames) values list the user's DN.

use std::collections::BTreeMap;

use ldap3::Scope;

use super::conn::{Connector, Failure};
use super::{dn, filter};
use crate::auth::Role;

/// The configured `roles`, with DNs in normal form, and the role of everyone else.
pub struct RoleMap {
    groups: Vec<Group>,
    default: Option<Role>,
}

struct Group {
    /// As configured: the base of the membership search.
    dn: String,
    normal: String,
    role: Role,
}

/// Admin outranks agent outranks customer: the best role of all a user's groups wins.
fn rank(role: Role) -> u8 {
    match role {
        Role::Admin => 3,
        Role::Agent => 2,
        Role::Customer => 1,
    }
}

fn better(a: Option<Role>, b: Option<Role>) -> Option<Role> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if rank(y) > rank(x) { y } else { x }),
        (x, y) => x.or(y),
    }
}

impl RoleMap {
    pub fn new(roles: &BTreeMap<String, String>, default_role: &str) -> Result<RoleMap, String> {
        let groups = roles
            .iter()
            .map(|(group, role)| {
                let role = role
                    .parse()
                    .map_err(|e| format!("ldap.roles.\"{group}\": {e}"))?;
                Ok(Group {
                    dn: group.trim().to_owned(),
                    normal: dn::normalise(group),
                    role,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let default = match default_role {
            "none" => None,
            r => Some(r.parse().map_err(|e| format!("ldap.default_role: {e}"))?),
        };
        Ok(RoleMap { groups, default })
    }

    /// The role for a user in `best` (from their groups), else the default; `None` when
    /// neither grants access.
    pub fn decide(&self, best: Option<Role>) -> Option<Role> {
        best.or(self.default)
    }

    /// The best role the given group DNs (`memberOf` values) map to.
    pub fn via_member_of<'a>(&self, dns: impl IntoIterator<Item = &'a str>) -> Option<Role> {
        dns.into_iter()
            .map(dn::normalise)
            .filter_map(|n| self.groups.iter().find(|g| g.normal == n).map(|g| g.role))
            .fold(None, |acc, r| better(acc, Some(r)))
    }

    /// Adds what the groups themselves say to `best` (from `memberOf`): one base-scope search
    /// per configured group that could still raise the role, all at once on `conn`. A base
    /// search returns at most one entry, so no paging is needed; a group that does not exist
    /// (noSuchObject) counts as one the user is not in.
    pub async fn with_group_members(
        &self,
        connector: &Connector,
        conn: &ldap3::Ldap,
        user_dn: &str,
        best: Option<Role>,
    ) -> Result<Option<Role>, Failure> {
        let escaped = filter::escape_value(user_dn);
        let member_filter = format!("(|(member={escaped})(uniqueMember={escaped}))");
        let searches = self
            .groups
            .iter()
            .filter(|g| best.is_none_or(|b| rank(g.role) > rank(b)))
            .map(|g| {
                let mut conn = conn.clone();
                let member_filter = &member_filter;
                async move {
                    let found = connector
                        .step(
                            "searching a group",
                            conn.search(&g.dn, Scope::Base, member_filter, ["1.1"]),
                        )
                        .await?;
                    match found.1.rc {
                        0 => Ok((!found.0.is_empty()).then_some(g.role)),
                        32 => {
                            tracing::warn!(group = %g.dn, "ldap.roles names a group that does not exist");
                            Ok(None)
                        }
                        _ => Err(Failure::code("searching a group", &found.1)),
                    }
                }
            });
        let found = futures_util::future::try_join_all(searches).await?;
        Ok(found.into_iter().fold(best, better))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(default: &str) -> RoleMap {
        let roles = [
            ("cn=admins,ou=groups,dc=example,dc=net", "admin"),
            ("CN=NOC, OU=Groups, DC=example, DC=net", "agent"),
            ("cn=portal,ou=groups,dc=example,dc=net", "customer"),
        ]
        .into_iter()
        .map(|(d, r)| (d.to_owned(), r.to_owned()))
        .collect();
        RoleMap::new(&roles, default).unwrap()
    }

    #[test]
    fn the_highest_role_of_all_groups_wins() {
        let m = map("customer");
        let dns = [
            "cn=portal,ou=groups,dc=example,dc=net",
            "cn=noc,ou=groups,dc=example,dc=net",
            "cn=admins,ou=groups,dc=example,dc=net",
        ];
        assert_eq!(m.via_member_of(dns), Some(Role::Admin));
        assert_eq!(m.via_member_of(dns[..2].iter().copied()), Some(Role::Agent));
        assert_eq!(
            better(Some(Role::Admin), Some(Role::Customer)),
            Some(Role::Admin)
        );
    }

    #[test]
    fn group_dns_compare_whatever_their_spelling() {
        let m = map("none");
        assert_eq!(
            m.via_member_of(["cn=noc,ou=groups,dc=example,dc=net"]),
            Some(Role::Agent)
        );
        assert_eq!(
            m.via_member_of(["CN=Admins , OU=groups,dc=EXAMPLE,dc=net"]),
            Some(Role::Admin)
        );
    }

    #[test]
    fn unmapped_groups_fall_back_to_the_default_role() {
        let m = map("customer");
        let best = m.via_member_of(["cn=billing,ou=groups,dc=example,dc=net"]);
        assert_eq!(best, None);
        assert_eq!(m.decide(best), Some(Role::Customer));
        assert_eq!(map("none").decide(None), None);
        assert_eq!(map("none").decide(Some(Role::Agent)), Some(Role::Agent));
    }

    #[test]
    fn bad_roles_are_refused_at_startup() {
        let roles = [("cn=x".to_owned(), "boss".to_owned())]
            .into_iter()
            .collect();
        assert!(RoleMap::new(&roles, "customer").is_err());
        assert!(RoleMap::new(&BTreeMap::new(), "nobody").is_err());
    }
}
