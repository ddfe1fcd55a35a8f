//! Reading the layers. Unknown keys in the file are errors; unknown `OPSDESK_*` variables are
//! warnings, because the environment also carries variables meant for other tools and tests.

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::raw::*;
use super::{Config, Problem, check};

/// Variables with our prefix that are not config keys (CONTRACT §1).
const NOT_CONFIG: &[&str] = &["admin_password", "token", "config"];
const CORE_KEYS: &[&str] = &["listen", "database_url", "base_url"];

/// A valid config and the warnings met while reading it.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
    /// The file that was read, if any.
    pub file: Option<PathBuf>,
}

fn env() -> Env {
    Env::prefixed("OPSDESK_").split("__").ignore(NOT_CONFIG)
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
    // Read once, so the file checked for unknown keys is the file whose values are used.
    let text = match &file {
        Some(f) => match std::fs::read_to_string(f) {
            Ok(t) => Some(t),
            Err(e) => {
                return Err(vec![Problem {
                    key: "(config)".into(),
                    message: format!("{} cannot be read: {e}", f.display()),
                }]);
            }
        },
        None => None,
    };
    let toml = file
        .as_deref()
        .zip(text.as_deref())
        .map(|(origin, text)| TomlText { text, origin });
    load_layers(toml, Some(&env()))
}

/// Reads defaults → `text`, the TOML of a config file (`origin` is what `Loaded::file` names),
/// with the same parsing, checks and messages as `load`. The environment is not read: the
/// answer depends on `text` alone (the fuzz target relies on it). What the checks look up
/// outside the text still counts: a `ca_file` must exist, a time zone must be known.
pub fn load_str(text: &str, origin: &Path) -> Result<Loaded, Vec<Problem>> {
    load_layers(Some(TomlText { text, origin }), None)
}

/// The file layer: its text, read as `Toml::file_exact` would read the file at `origin`.
struct TomlText<'a> {
    text: &'a str,
    origin: &'a Path,
}

impl Provider for TomlText<'_> {
    fn metadata(&self) -> Metadata {
        Metadata::from("TOML file", self.origin)
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Toml::string(self.text).data()
    }
}

/// Defaults → `file` → `env`; unknown keys in the file are problems, in `env` warnings.
fn load_layers(file: Option<TomlText<'_>>, env: Option<&Env>) -> Result<Loaded, Vec<Problem>> {
    let mut problems = Vec::new();
    let file_dict = match &file {
        Some(f) => Figment::from(f)
            .extract::<Dict>()
            .map_err(|e| figment_problems("", e))?,
        None => Dict::new(),
    };
    let env_dict = match env {
        Some(e) => Figment::from(e)
            .extract::<Dict>()
            .map_err(|e| figment_problems("", e))?,
        None => Dict::new(),
    };

    let mut figment = Figment::from(Serialized::defaults(check::default_core()));
    if let Some(f) = &file {
        figment = figment.merge(f);
    }
    if let Some(e) = env {
        figment = figment.merge(e);
    }
    let root: Dict = figment.extract().map_err(|e| figment_problems("", e))?;

    let sections = read_sections(&root, &mut problems);
    let known = sections.as_json();
    unknown_keys("", &to_json(&file_dict), &known, &mut |k| {
        problems.push(Problem {
            key: k,
            message: "unknown key (see CONTRACT §2 and the README for the keys)".into(),
        });
    });
    let mut warnings = Vec::new();
    unknown_keys("", &to_json(&env_dict), &known, &mut |k| {
        let var = format!("OPSDESK_{}", k.replace('.', "__").to_uppercase());
        warnings.push(format!(
            "{var} is set but {k} is not a configuration key; ignored"
        ));
    });
    match check::check(sections, &mut problems) {
        Some(config) if problems.is_empty() => Ok(Loaded {
            config,
            warnings,
            file: file.map(|f| f.origin.to_path_buf()),
        }),
        _ => Err(problems),
    }
}

/// Every raw section, each read on its own so one bad section does not hide the others.
#[derive(Debug, Default)]
pub(super) struct Sections {
    pub core: Option<RawCore>,
    pub web: Option<RawWeb>,
    pub db: Option<RawDb>,
    pub jobs: Option<RawJobs>,
    pub log: Option<RawLog>,
    pub auth: Option<RawAuth>,
    pub mail: Option<RawMail>,
    pub queues: Option<Vec<RawQueue>>,
    pub calendars: Option<Vec<RawCalendar>>,
    pub slas: Option<Vec<RawSla>>,
    pub oncall: Option<Vec<RawOncall>>,
    pub ldap: Option<Option<RawLdap>>,
    pub radius: Option<Option<RawRadius>>,
    pub alert_sources: Option<Vec<RawAlertSource>>,
}

impl Sections {
    /// What the sections read, as JSON keyed like the file. A section that failed to read
    /// maps to `true`, so its keys are not reported as unknown on top of its error.
    fn as_json(&self) -> serde_json::Value {
        fn put<T: Serialize>(
            m: &mut serde_json::Map<String, serde_json::Value>,
            k: &str,
            v: &Option<T>,
        ) {
            let j = match v {
                Some(v) => serde_json::to_value(v).unwrap_or(serde_json::Value::Bool(true)),
                None => serde_json::Value::Bool(true),
            };
            m.insert(k.to_owned(), j);
        }
        let mut m = serde_json::Map::new();
        for k in CORE_KEYS {
            m.insert((*k).to_owned(), serde_json::Value::Bool(true));
        }
        put(&mut m, "web", &self.web);
        put(&mut m, "db", &self.db);
        put(&mut m, "jobs", &self.jobs);
        put(&mut m, "log", &self.log);
        put(&mut m, "auth", &self.auth);
        put(&mut m, "mail", &self.mail);
        put(&mut m, "queue", &self.queues);
        put(&mut m, "calendar", &self.calendars);
        put(&mut m, "sla", &self.slas);
        put(&mut m, "oncall", &self.oncall);
        put(&mut m, "ldap", &self.ldap.as_ref().and_then(Option::as_ref));
        put(
            &mut m,
            "radius",
            &self.radius.as_ref().and_then(Option::as_ref),
        );
        put(&mut m, "alert_source", &self.alert_sources);
        serde_json::Value::Object(m)
    }
}

fn read_sections(root: &Dict, problems: &mut Vec<Problem>) -> Sections {
    let core_dict: Dict = root
        .iter()
        .filter(|(k, _)| CORE_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Sections {
        core: read("", &Value::from(core_dict), problems),
        web: table(root, "web", problems),
        db: table(root, "db", problems),
        jobs: table(root, "jobs", problems),
        log: table(root, "log", problems),
        auth: table(root, "auth", problems),
        mail: table(root, "mail", problems),
        queues: list(root, "queue", problems),
        calendars: list(root, "calendar", problems),
        slas: list(root, "sla", problems),
        oncall: list(root, "oncall", problems),
        ldap: optional(root, "ldap", problems),
        radius: optional(root, "radius", problems),
        alert_sources: list(root, "alert_source", problems),
    }
}

/// A `[table]` that may be absent (then its defaults apply).
fn table<T: DeserializeOwned + Default>(
    root: &Dict,
    key: &str,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    match root.get(key) {
        None => Some(T::default()),
        Some(v) => read(key, v, problems),
    }
}

/// A `[table]` whose absence means the feature is off.
fn optional<T: DeserializeOwned>(
    root: &Dict,
    key: &str,
    problems: &mut Vec<Problem>,
) -> Option<Option<T>> {
    match root.get(key) {
        None => Some(None),
        Some(v) => read(key, v, problems).map(Some),
    }
}

/// A `[[list]]` of tables, each read on its own.
fn list<T: DeserializeOwned>(
    root: &Dict,
    key: &str,
    problems: &mut Vec<Problem>,
) -> Option<Vec<T>> {
    let Some(value) = root.get(key) else {
        return Some(Vec::new());
    };
    let Value::Array(_, items) = value else {
        problems.push(Problem {
            key: key.into(),
            message: format!("must be a list of tables ([[{key}]])"),
        });
        return None;
    };
    let mut out = Vec::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        match read::<T>(&format!("{key}[{i}]"), item, problems) {
            Some(t) => out.push(t),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn read<T: DeserializeOwned>(key: &str, value: &Value, problems: &mut Vec<Problem>) -> Option<T> {
    match value.deserialize::<T>() {
        Ok(t) => Some(t),
        Err(e) => {
            problems.extend(figment_problems(key, e));
            None
        }
    }
}

fn to_json(d: &Dict) -> serde_json::Value {
    Value::from(d.clone())
        .deserialize::<serde_json::Value>()
        .unwrap_or(serde_json::Value::Null)
}

/// Calls `found` with the dotted path of every key in `written` that `known` does not have.
/// `known` = `true` stands for "anything goes here" (a section that failed to read).
fn unknown_keys(
    prefix: &str,
    written: &serde_json::Value,
    known: &serde_json::Value,
    found: &mut dyn FnMut(String),
) {
    use serde_json::Value as J;
    match (written, known) {
        (_, J::Bool(true)) => {}
        (J::Object(w), J::Object(k)) => {
            for (key, wv) in w {
                let path = if prefix.is_empty() {
                    key_segment(key)
                } else {
                    format!("{prefix}.{}", key_segment(key))
                };
                match k.get(key) {
                    Some(kv) => unknown_keys(&path, wv, kv, found),
                    None => found(path),
                }
            }
        }
        (J::Array(w), J::Array(k)) => {
            for (i, (wv, kv)) in w.iter().zip(k.iter()).enumerate() {
                unknown_keys(&format!("{prefix}[{i}]"), wv, kv, found);
            }
        }
        _ => {}
    }
}

/// One key of a dotted path as TOML would write it: bare when it can be (`web`, `P1`), quoted
/// otherwise, so an empty key or one with a dot in it still names one place (`""`, `"a.b"`).
fn key_segment(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_owned()
    } else {
        format!("{key:?}")
    }
}

fn figment_problems(prefix: &str, e: figment::Error) -> Vec<Problem> {
    e.into_iter()
        .map(|err| {
            let mut path: Vec<String> = Vec::new();
            if !prefix.is_empty() {
                path.push(prefix.to_owned());
            }
            path.extend(err.path.iter().map(|k| key_segment(k)));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_loads_like_a_file_without_the_environment() {
        let origin = Path::new("from-text.toml");
        let loaded = load_str("listen = \"127.0.0.1:9000\"\n[jobs]\nworkers = 3\n", origin)
            .expect("a valid config");
        assert_eq!(loaded.config.listen.port(), 9000);
        assert_eq!(loaded.config.jobs.workers, 3);
        assert_eq!(loaded.file.as_deref(), Some(origin));
        assert!(loaded.warnings.is_empty());
    }

    #[test]
    fn text_problems_name_their_keys() {
        let problems = load_str(
            "colour = \"blue\"\n[db]\nmax_connections = 0\n",
            Path::new("x"),
        )
        .expect_err("two problems");
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["colour", "db.max_connections"], "{problems:?}");
        let syntax = load_str("[db", Path::new("x")).expect_err("not TOML");
        assert!(syntax[0].message.contains("(in TOML file)"), "{syntax:?}");
    }

    /// Found by the config_loader fuzz target: `'' = 1` was reported at the key "", so the
    /// operator read ": unknown key" without a place to look.
    #[test]
    fn an_unknown_key_that_is_empty_or_dotted_is_quoted() {
        let problems =
            load_str("'' = 1\n[web]\n\"a.b\" = 2\n", Path::new("x")).expect_err("two unknown keys");
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["\"\"", "web.\"a.b\""], "{problems:?}");
    }

    #[test]
    fn a_wrong_type_under_an_odd_key_is_quoted_too() {
        let problems = load_str(
            "[ldap]\nurl = \"ldap://x\"\nuser_base = \"dc=x\"\nroles = { \"\" = 1 }\n",
            Path::new("x"),
        )
        .expect_err("a number where a role goes");
        assert!(
            problems.iter().any(|p| p.key == "ldap.roles.\"\""),
            "{problems:?}"
        );
    }
}
