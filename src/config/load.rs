//! Reading the layers. Unknown keys in the file are errors; unknown `OPSDESK_*` variables are
//! warnings, because the environment also carries variables meant for other tools and tests.

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::{Dict, Value};
use figment::{Figment, Metadata};
use serde::de::DeserializeOwned;

use super::raw::Unknown;
use super::{Config, Problem, check};

/// Variables with our prefix that are not config keys (CONTRACT §1).
const NOT_CONFIG: &[&str] = &["admin_password", "token", "config"];

/// A valid config and the warnings met while reading it.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
    /// The file that was read, if any.
    pub file: Option<PathBuf>,
}

/// Reads defaults → `path` (or `./opsdesk.toml` when present) → environment.
pub fn load(path: Option<&Path>) -> Result<Loaded, Vec<Problem>> {
    let file = match path {
        Some(p) if !p.is_file() => {
            return Err(vec![Problem {
                key: "--config".into(),
                message: format!("{} does not exist or is not a file", p.display()),
            }]);
        }
        Some(p) => Some(p.to_path_buf()),
        None => Some(PathBuf::from("opsdesk.toml")).filter(|p| p.is_file()),
    };
    let mut figment = Figment::from(Serialized::defaults(check::default_core()));
    if let Some(f) = &file {
        figment = figment.merge(Toml::file_exact(f));
    }
    figment = figment.merge(Env::prefixed("OPSDESK_").split("__").ignore(NOT_CONFIG));

    let root: Dict = figment
        .extract()
        .map_err(|e| figment_problems("(file)", e))?;
    let mut reader = Reader {
        figment: &figment,
        problems: Vec::new(),
        warnings: Vec::new(),
    };
    let sections = reader.sections(&root);
    match check::check(sections, &mut reader.problems) {
        Some(config) if reader.problems.is_empty() => Ok(Loaded {
            config,
            warnings: reader.warnings,
            file,
        }),
        _ => Err(reader.problems),
    }
}

/// Every raw section, each read on its own so one bad section does not hide the others.
#[derive(Debug, Default)]
pub(super) struct Sections {
    pub core: Option<super::raw::RawCore>,
    pub web: Option<super::raw::RawWeb>,
    pub db: Option<super::raw::RawDb>,
    pub jobs: Option<super::raw::RawJobs>,
    pub log: Option<super::raw::RawLog>,
    pub auth: Option<super::raw::RawAuth>,
    pub mail: Option<super::raw::RawMail>,
    pub queues: Option<Vec<super::raw::RawQueue>>,
    pub calendars: Option<Vec<super::raw::RawCalendar>>,
    pub slas: Option<Vec<super::raw::RawSla>>,
    pub oncall: Option<Vec<super::raw::RawOncall>>,
    pub ldap: Option<Option<super::raw::RawLdap>>,
    pub radius: Option<Option<super::raw::RawRadius>>,
    pub alert_sources: Option<Vec<super::raw::RawAlertSource>>,
}

struct Reader<'a> {
    figment: &'a Figment,
    problems: Vec<Problem>,
    warnings: Vec<String>,
}

const CORE_KEYS: &[&str] = &["listen", "database_url", "base_url"];

impl Reader<'_> {
    fn sections(&mut self, root: &Dict) -> Sections {
        let core_dict: Dict = root
            .iter()
            .filter(|(k, _)| CORE_KEYS.contains(&k.as_str()) || !is_section(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let core: Option<super::raw::RawCore> = self.read("", &Value::from(core_dict));
        if let Some(c) = &core {
            self.unknown("", &c.unknown);
        }
        let mut s = Sections {
            core,
            ..Sections::default()
        };
        s.web = self.table(root, "web", |r, v: &super::raw::RawWeb| {
            r.unknown("web", &v.unknown)
        });
        s.db = self.table(root, "db", |r, v: &super::raw::RawDb| {
            r.unknown("db", &v.unknown)
        });
        s.jobs = self.table(root, "jobs", |r, v: &super::raw::RawJobs| {
            r.unknown("jobs", &v.unknown)
        });
        s.log = self.table(root, "log", |r, v: &super::raw::RawLog| {
            r.unknown("log", &v.unknown)
        });
        s.auth = self.table(root, "auth", |r, v: &super::raw::RawAuth| {
            r.unknown("auth", &v.unknown)
        });
        s.mail = self.table(root, "mail", |r, v: &super::raw::RawMail| {
            r.unknown("mail", &v.unknown);
            for (i, imap) in v.imap.iter().enumerate() {
                r.unknown(&format!("mail.imap[{i}]"), &imap.unknown);
            }
        });
        s.queues = self.list(root, "queue", |r, key, v: &super::raw::RawQueue| {
            r.unknown(key, &v.unknown)
        });
        s.calendars = self.list(root, "calendar", |r, key, v: &super::raw::RawCalendar| {
            r.unknown(key, &v.unknown)
        });
        s.slas = self.list(root, "sla", |r, key, v: &super::raw::RawSla| {
            r.unknown(key, &v.unknown);
            for (p, t) in &v.targets {
                r.unknown(&format!("{key}.targets.{p}"), &t.unknown);
            }
            for (i, e) in v.escalate.iter().enumerate() {
                r.unknown(&format!("{key}.escalate[{i}]"), &e.unknown);
            }
        });
        s.oncall = self.list(root, "oncall", |r, key, v: &super::raw::RawOncall| {
            r.unknown(key, &v.unknown)
        });
        s.ldap = root.get("ldap").map(|v| {
            let t: Option<super::raw::RawLdap> = self.read("ldap", v);
            if let Some(t) = &t {
                self.unknown("ldap", &t.unknown);
            }
            t
        });
        s.radius = root.get("radius").map(|v| {
            let t: Option<super::raw::RawRadius> = self.read("radius", v);
            if let Some(t) = &t {
                self.unknown("radius", &t.unknown);
            }
            t
        });
        s.alert_sources = self.list(
            root,
            "alert_source",
            |r, key, v: &super::raw::RawAlertSource| {
                r.unknown(key, &v.unknown);
                if let Some(storm) = &v.storm {
                    r.unknown(&format!("{key}.storm"), &storm.unknown);
                }
            },
        );
        s
    }

    /// A `[table]` that may be absent (then its defaults apply).
    fn table<T: DeserializeOwned + Default>(
        &mut self,
        root: &Dict,
        key: &str,
        after: impl FnOnce(&mut Self, &T),
    ) -> Option<T> {
        let value = match root.get(key) {
            None => return Some(T::default()),
            Some(v) => v,
        };
        let t: Option<T> = self.read(key, value);
        if let Some(t) = &t {
            after(self, t);
        }
        t
    }

    /// A `[[list]]` of tables, each read on its own.
    fn list<T: DeserializeOwned>(
        &mut self,
        root: &Dict,
        key: &str,
        after: impl Fn(&mut Self, &str, &T),
    ) -> Option<Vec<T>> {
        let Some(value) = root.get(key) else {
            return Some(Vec::new());
        };
        let Value::Array(_, items) = value else {
            self.problems.push(Problem {
                key: key.into(),
                message: format!("must be a list of tables ([[{key}]])"),
            });
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let item_key = format!("{key}[{i}]");
            match self.read::<T>(&item_key, item) {
                Some(t) => {
                    after(self, &item_key, &t);
                    out.push(t);
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn read<T: DeserializeOwned>(&mut self, key: &str, value: &Value) -> Option<T> {
        match value.deserialize::<T>() {
            Ok(t) => Some(t),
            Err(e) => {
                self.problems.extend(figment_problems(key, e));
                None
            }
        }
    }

    fn unknown(&mut self, table: &str, unknown: &Unknown) {
        for (k, v) in unknown {
            let key = if table.is_empty() {
                k.clone()
            } else {
                format!("{table}.{k}")
            };
            if self.from_env(v) {
                let var = format!("OPSDESK_{}", key.replace('.', "__").to_uppercase());
                self.warnings.push(format!(
                    "{var} is set but {key} is not a configuration key; ignored"
                ));
            } else {
                self.problems.push(Problem {
                    key,
                    message: "unknown key (see CONTRACT §2 and the README for the keys)".into(),
                });
            }
        }
    }

    fn from_env(&self, v: &Value) -> bool {
        self.figment
            .get_metadata(v.tag())
            .is_some_and(|m: &Metadata| m.name.contains("environment"))
    }
}

fn is_section(key: &str) -> bool {
    matches!(
        key,
        "web"
            | "db"
            | "jobs"
            | "log"
            | "auth"
            | "mail"
            | "queue"
            | "calendar"
            | "sla"
            | "oncall"
            | "ldap"
            | "radius"
            | "alert_source"
    )
}

fn figment_problems(prefix: &str, e: figment::Error) -> Vec<Problem> {
    e.into_iter()
        .map(|err| {
            let mut path: Vec<String> = Vec::new();
            if !prefix.is_empty() {
                path.push(prefix.to_owned());
            }
            path.extend(err.path.iter().cloned());
            let mut message = err.kind.to_string();
            if let Some(m) = &err.metadata {
                message.push_str(&format!(" (in {})", m.name));
            }
            Problem {
                key: if path.is_empty() {
                    "(config)".into()
                } else {
                    path.join(".")
                },
                message,
            }
        })
        .collect()
}
