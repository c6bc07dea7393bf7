//! The types a setting can have, and how each is read and written in every form it takes:
//! a TOML value in the file, the text of an environment variable, a flag or an OCF
//! parameter, and back (for `eva-ha config`, the example file and the flags that the
//! Pacemaker agent hands its watcher). A type knows only its form; what a particular
//! setting allows beyond that is its check (`super::check`).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::de::Unexpected;

use crate::ha::token::TokenFormat;
use crate::sys::runtime::{Filter, Kind};

/// A type a setting can have.
pub trait Value: Clone + fmt::Debug + Sized + Send + Sync + 'static {
    /// What a valid value looks like in the file, for type errors: `a number of seconds`.
    const EXPECTED: &'static str;

    /// From an environment variable, a flag or an OCF parameter (never empty).
    fn from_text(text: &str) -> Result<Self, String>;

    /// From a flag given once per item (`--filter A --filter B`).
    fn from_items(items: &[String]) -> Result<Self, String> {
        Self::from_text(&items.join(","))
    }

    fn from_toml(value: &toml::Value) -> Result<Self, String>;

    /// As the file has it; `None` for a setting that is not set.
    fn to_toml(&self) -> Option<toml::Value>;

    /// As a flag takes it, one text per occurrence; empty for a setting that is not set.
    fn to_items(&self) -> Vec<String>;
}

/// `invalid type: string "docker", expected a list`, as serde words it.
fn invalid_type(value: &toml::Value, expected: &str) -> String {
    let unexpected = match value {
        toml::Value::String(s) => Unexpected::Str(s),
        toml::Value::Integer(i) => Unexpected::Signed(*i),
        toml::Value::Float(f) => Unexpected::Float(*f),
        toml::Value::Boolean(b) => Unexpected::Bool(*b),
        toml::Value::Datetime(_) => Unexpected::Other("a date-time"),
        toml::Value::Array(_) => Unexpected::Seq,
        toml::Value::Table(_) => Unexpected::Map,
    };
    format!("invalid type: {unexpected}, expected {expected}")
}

fn string(value: &toml::Value, expected: &str) -> Result<String, String> {
    value.as_str().map(str::to_owned).ok_or_else(|| invalid_type(value, expected))
}

/// A list in an environment variable or an OCF parameter: comma- or space-separated.
pub fn list(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c == ',' || c.is_whitespace()).filter(|u| !u.is_empty())
}

impl Value for PathBuf {
    const EXPECTED: &'static str = "a path";

    fn from_text(text: &str) -> Result<Self, String> {
        Ok(PathBuf::from(text))
    }

    fn from_toml(value: &toml::Value) -> Result<Self, String> {
        string(value, Self::EXPECTED).map(PathBuf::from)
    }

    fn to_toml(&self) -> Option<toml::Value> {
        Some(toml::Value::String(self.display().to_string()))
    }

    fn to_items(&self) -> Vec<String> {
        vec![self.display().to_string()]
    }
}

impl Value for String {
    const EXPECTED: &'static str = "a string";

    fn from_text(text: &str) -> Result<Self, String> {
        Ok(text.to_owned())
    }

    fn from_toml(value: &toml::Value) -> Result<Self, String> {
        string(value, Self::EXPECTED)
    }

    fn to_toml(&self) -> Option<toml::Value> {
        Some(toml::Value::String(self.clone()))
    }

    fn to_items(&self) -> Vec<String> {
        vec![self.clone()]
    }
}

/// The largest number of seconds we accept: a week.
pub const MAX_SECS: f64 = 7.0 * 86400.0;

/// Seconds, fractions allowed (`1500`, `0.5`), from 0 up to a week.
pub fn secs(secs: f64) -> Result<Duration, String> {
    if secs.is_finite() && (0.0..=MAX_SECS).contains(&secs) {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(format!("{secs} is not a number of seconds from 0 up to {MAX_SECS}"))
    }
}

/// A number of seconds as text: `1500`, `2.5`.
pub fn secs_text(d: Duration) -> String {
    d.as_secs_f64().to_string()
}

impl Value for Duration {
    const EXPECTED: &'static str = "a number of seconds";

    fn from_text(text: &str) -> Result<Self, String> {
        let number = text.trim().parse::<f64>().map_err(|_| format!("{text:?} is not a number of seconds"))?;
        secs(number)
    }

    fn from_toml(value: &toml::Value) -> Result<Self, String> {
        let number = match value {
            toml::Value::Integer(i) => *i as f64,
            toml::Value::Float(f) => *f,
            other => return Err(invalid_type(other, Self::EXPECTED)),
        };
        secs(number)
    }

    fn to_toml(&self) -> Option<toml::Value> {
        let s = self.as_secs_f64();
        Some(if s.fract() == 0.0 { toml::Value::Integer(s as i64) } else { toml::Value::Float(s) })
    }

    fn to_items(&self) -> Vec<String> {
        vec![secs_text(*self)]
    }
}

impl Value for bool {
    const EXPECTED: &'static str = "a boolean";

    fn from_text(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(format!("{text:?} is not true or false")),
        }
    }

    fn from_toml(value: &toml::Value) -> Result<Self, String> {
        value.as_bool().ok_or_else(|| invalid_type(value, Self::EXPECTED))
    }

    fn to_toml(&self) -> Option<toml::Value> {
        Some(toml::Value::Boolean(*self))
    }

    fn to_items(&self) -> Vec<String> {
        vec![self.to_string()]
    }
}

/// The items of a TOML array, each read by `item`.
fn array<T>(value: &toml::Value, item: impl Fn(&toml::Value) -> Result<T, String>) -> Result<Vec<T>, String> {
    value.as_array().ok_or_else(|| invalid_type(value, "a list"))?.iter().map(item).collect()
}

impl Value for Vec<String> {
    const EXPECTED: &'static str = "a list";

    fn from_text(text: &str) -> Result<Self, String> {
        Ok(list(text).map(str::to_owned).collect())
    }

    fn from_items(items: &[String]) -> Result<Self, String> {
        Ok(items.to_vec())
    }

    fn from_toml(value: &toml::Value) -> Result<Self, String> {
        array(value, |v| string(v, "a string"))
    }

    fn to_toml(&self) -> Option<toml::Value> {
        Some(toml::Value::Array(self.iter().cloned().map(toml::Value::String).collect()))
    }

    fn to_items(&self) -> Vec<String> {
        vec![self.join(",")]
    }
}

impl Value for Vec<i64> {
    const EXPECTED: &'static str = "a list of numbers";

    fn from_text(text: &str) -> Result<Self, String> {
        list(text)
            .map(|c| c.parse::<i64>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| format!("{text:?} is not a list of numbers"))
    }

    fn from_toml(value: &toml::Value) -> Result<Self, String> {
        array(value, |v| v.as_integer().ok_or_else(|| invalid_type(v, "an integer")))
    }

    fn to_toml(&self) -> Option<toml::Value> {
        Some(toml::Value::Array(self.iter().map(|&c| toml::Value::Integer(c)).collect()))
    }

    fn to_items(&self) -> Vec<String> {
        vec![self.iter().map(i64::to_string).collect::<Vec<_>>().join(",")]
    }
}

impl Value for Vec<Filter> {
    const EXPECTED: &'static str = "a list";

    fn from_text(text: &str) -> Result<Self, String> {
        list(text).map(Filter::parse).collect()
    }

    fn from_items(items: &[String]) -> Result<Self, String> {
        items.iter().map(|i| Filter::parse(i)).collect()
    }

    fn from_toml(value: &toml::Value) -> Result<Self, String> {
        array(value, |v| Filter::parse(&string(v, "a string")?))
    }

    fn to_toml(&self) -> Option<toml::Value> {
        Some(toml::Value::Array(self.iter().map(|f| toml::Value::String(f.to_string())).collect()))
    }

    fn to_items(&self) -> Vec<String> {
        self.iter().map(Filter::to_string).collect()
    }
}

/// A setting without a default: `None` until someone sets it.
impl<T: Value> Value for Option<T> {
    const EXPECTED: &'static str = T::EXPECTED;

    fn from_text(text: &str) -> Result<Self, String> {
        T::from_text(text).map(Some)
    }

    fn from_items(items: &[String]) -> Result<Self, String> {
        T::from_items(items).map(Some)
    }

    fn from_toml(value: &toml::Value) -> Result<Self, String> {
        T::from_toml(value).map(Some)
    }

    fn to_toml(&self) -> Option<toml::Value> {
        self.as_ref().and_then(T::to_toml)
    }

    fn to_items(&self) -> Vec<String> {
        self.as_ref().map(T::to_items).unwrap_or_default()
    }
}

/// The names of an enum as clap spells them (`json`, `raw`).
fn names<T: clap::ValueEnum>() -> Vec<String> {
    T::value_variants().iter().filter_map(|v| v.to_possible_value()).map(|p| p.get_name().to_owned()).collect()
}

/// One of an enum's names (`json`, `podman`); the error lists them.
pub fn one_of<T: clap::ValueEnum>(text: &str) -> Result<T, String> {
    T::from_str(text.trim(), false).map_err(|_| format!("{text:?} is not {}", names::<T>().join(" or ")))
}

/// Implements [`Value`] for an enum whose names clap knows.
macro_rules! choice {
    ($($ty:ty),*) => {$(
        impl Value for $ty {
            const EXPECTED: &'static str = "one of its names";

            fn from_text(text: &str) -> Result<Self, String> {
                one_of(text)
            }

            fn from_toml(value: &toml::Value) -> Result<Self, String> {
                let text = string(value, Self::EXPECTED)?;
                <$ty as clap::ValueEnum>::from_str(&text, false).map_err(|_| {
                    let expected: Vec<String> = names::<$ty>().iter().map(|n| format!("`{n}`")).collect();
                    format!("unknown variant `{text}`, expected {}", expected.join(" or "))
                })
            }

            fn to_toml(&self) -> Option<toml::Value> {
                Some(toml::Value::String(self.to_string()))
            }

            fn to_items(&self) -> Vec<String> {
                vec![self.to_string()]
            }
        }
    )*};
}

choice!(TokenFormat, Kind);

#[cfg(test)]
mod tests {
    use super::*;

    fn toml_value(text: &str) -> toml::Value {
        toml::from_str::<toml::Table>(&format!("v = {text}")).unwrap().remove("v").unwrap()
    }

    #[test]
    fn each_form_reads_back_what_it_wrote() {
        let d = Duration::from_millis(2500);
        assert_eq!(Duration::from_text(&d.to_items()[0]), Ok(d));
        assert_eq!(Duration::from_toml(&d.to_toml().unwrap()), Ok(d));
        let units = vec!["docker".to_owned(), "mongod.service".to_owned()];
        assert_eq!(Vec::<String>::from_text(&units.to_items()[0]), Ok(units.clone()));
        assert_eq!(Vec::<String>::from_toml(&units.to_toml().unwrap()), Ok(units));
        let filters = vec![Filter::parse("label=eva").unwrap(), Filter::parse("container=crowd").unwrap()];
        assert_eq!(Vec::<Filter>::from_items(&filters.to_items()), Ok(filters.clone()));
        assert_eq!(Vec::<Filter>::from_toml(&filters.to_toml().unwrap()), Ok(filters));
        assert_eq!(Vec::<i64>::from_text("0,137 143"), Ok(vec![0, 137, 143]));
        assert_eq!(Option::<PathBuf>::None.to_toml(), None);
        assert_eq!(TokenFormat::from_text(" raw "), Ok(TokenFormat::Raw));
    }

    #[test]
    fn type_errors_are_worded_as_serde_words_them() {
        assert_eq!(
            Vec::<String>::from_toml(&toml_value("\"docker\"")),
            Err("invalid type: string \"docker\", expected a list".to_owned())
        );
        assert_eq!(bool::from_toml(&toml_value("1")), Err("invalid type: integer `1`, expected a boolean".to_owned()));
        assert_eq!(
            TokenFormat::from_toml(&toml_value("\"yaml\"")),
            Err("unknown variant `yaml`, expected `json` or `raw`".to_owned())
        );
        assert_eq!(Kind::from_text("rkt"), Err("\"rkt\" is not docker or podman".to_owned()));
        assert_eq!(Duration::from_text("soon"), Err("\"soon\" is not a number of seconds".to_owned()));
        assert!(Duration::from_text("-3").is_err());
        assert!(Duration::from_text("inf").is_err());
        assert!(Duration::from_text("NaN").is_err());
        assert_eq!(Duration::from_text("0"), Ok(Duration::ZERO));
        assert_eq!(bool::from_text("maybe"), Err("\"maybe\" is not true or false".to_owned()));
    }
}
