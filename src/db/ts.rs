//! Timestamps in the database: `timestamptz` on PostgreSQL and INTEGER microseconds on SQLite,
//! never text, because RFC 3339 strings of varying precision sort wrongly (DESIGN.md §3).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueFormat, PgValueRef};
use sqlx::sqlite::{SqliteArgumentsBuffer, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Postgres, Sqlite, Type};

/// Microseconds between 1970-01-01 and PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_OFFSET_MICROS: i64 = 946_684_800_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ts(pub Timestamp);

impl Ts {
    pub fn micros(self) -> i64 {
        self.0.as_microsecond()
    }

    fn from_micros(us: i64) -> Result<Ts, BoxDynError> {
        Ok(Ts(Timestamp::from_microsecond(us)?))
    }
}

impl From<Timestamp> for Ts {
    fn from(t: Timestamp) -> Self {
        Ts(t)
    }
}

impl From<Ts> for Timestamp {
    fn from(t: Ts) -> Self {
        t.0
    }
}

impl std::fmt::Display for Ts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Type<Sqlite> for Ts {
    fn type_info() -> SqliteTypeInfo {
        <i64 as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <i64 as Type<Sqlite>>::compatible(ty)
    }
}

impl Encode<'_, Sqlite> for Ts {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<Sqlite>>::encode(self.micros(), buf)
    }
}

impl Decode<'_, Sqlite> for Ts {
    fn decode(value: SqliteValueRef<'_>) -> Result<Self, BoxDynError> {
        Ts::from_micros(<i64 as Decode<Sqlite>>::decode(value)?)
    }
}

impl Type<Postgres> for Ts {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_name("timestamptz")
    }
}

impl Encode<'_, Postgres> for Ts {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<Postgres>>::encode(self.micros() - PG_EPOCH_OFFSET_MICROS, buf)
    }
}

impl Decode<'_, Postgres> for Ts {
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        match value.format() {
            PgValueFormat::Binary => {
                let us = <i64 as Decode<Postgres>>::decode(value)?;
                Ts::from_micros(us + PG_EPOCH_OFFSET_MICROS)
            }
            // Text only comes back from simple (unprepared) queries: "2026-11-22 10:00:00.5+00".
            PgValueFormat::Text => {
                let s = value.as_str()?;
                let iso = s.replacen(' ', "T", 1);
                let iso = if iso.ends_with("+00") {
                    format!("{iso}:00")
                } else {
                    iso
                };
                Ok(Ts(iso.parse::<Timestamp>()?))
            }
        }
    }
}
