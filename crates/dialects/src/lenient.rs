//! Serde helpers for scalars that servers write in more than one way.
//!
//! Hitachi writes every number as a string (`"ID": "10005"`) and unset
//! values as `""`; OMFLOW writes its status as `200` or `"200"` depending on
//! which code path answered; form-encoded requests carry numbers as text.
//! These helpers read any of those forms and write the one the vendor
//! documents, so the wire types stay faithful in both directions. They also
//! read XML element text (quick-xml hands every value over as a string).

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;

/// A scalar as it arrived, before we decide what it means.
enum Scalar {
    Missing,
    Text(String),
    Int(i128),
    Float(f64),
    Bool(bool),
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number, a string or null")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Text(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Text(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Missing)
    }
    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Missing)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
    /// quick-xml hands an element over as a map whose text is under
    /// `$text`; an empty element is an empty map.
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        let mut found = Scalar::Missing;
        while let Some(key) = map.next_key::<String>()? {
            if key == "$text" || key == "$value" {
                found = map.next_value::<Scalar>()?;
            } else {
                map.next_value::<de::IgnoredAny>()?;
                return Err(de::Error::custom(format!(
                    "expected a single value, found a structure with {key:?}"
                )));
            }
        }
        Ok(found)
    }
}

impl<'de> de::Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

fn scalar<'de, D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
    d.deserialize_any(ScalarVisitor)
}

fn to_int<E: de::Error>(s: Scalar) -> Result<Option<i64>, E> {
    match s {
        Scalar::Missing => Ok(None),
        Scalar::Text(t) if t.trim().is_empty() => Ok(None),
        Scalar::Text(t) => t
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| E::custom(format!("{t:?} is not a whole number"))),
        Scalar::Int(n) => i64::try_from(n)
            .map(Some)
            .map_err(|_| E::custom(format!("{n} is out of range"))),
        Scalar::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(f as i64)),
        Scalar::Float(f) => Err(E::custom(format!("{f} is not a whole number"))),
        Scalar::Bool(b) => Err(E::custom(format!("{b} is not a number"))),
    }
}

/// Reads any scalar as text (numbers in their decimal form); `null`, unit
/// and absent values are `None`.
pub fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match scalar(d)? {
        Scalar::Missing => None,
        Scalar::Text(t) => Some(t),
        Scalar::Int(n) => Some(n.to_string()),
        Scalar::Float(f) => Some(f.to_string()),
        Scalar::Bool(b) => Some(b.to_string()),
    })
}

/// `Option<i64>` read from a number or a numeric string (`""` and `null`
/// are `None`), written as a JSON number or `null`.
pub mod opt_int {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(n) => s.serialize_i64(*n),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        to_int(scalar(d)?)
    }
}

/// `i64` read from a number or a numeric string, written as a number.
pub mod int {
    use super::*;

    pub fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(*v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        to_int(scalar(d)?)?.ok_or_else(|| de::Error::custom("a number is missing"))
    }
}

/// `Option<i64>` read from a number or a numeric string, written as a
/// string, `""` when unset (Hitachi's documented form).
pub mod opt_int_as_text {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(n) => s.serialize_str(&n.to_string()),
            None => s.serialize_str(""),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        to_int(scalar(d)?)
    }
}

/// `i64` read from a number or a numeric string, written as a string.
pub mod int_as_text {
    use super::*;

    pub fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        to_int(scalar(d)?)?.ok_or_else(|| de::Error::custom("a number is missing"))
    }
}

/// `String` read from any scalar (`null` and absent are `""`), written as
/// a string.
pub mod text {
    use super::*;

    pub fn serialize<S: Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(opt_text(d)?.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Sample {
        #[serde(default, with = "super::opt_int_as_text")]
        a: Option<i64>,
        #[serde(with = "super::int")]
        b: i64,
        #[serde(default, with = "super::text")]
        c: String,
    }

    #[test]
    fn numbers_arrive_as_numbers_or_strings_and_leave_as_documented() {
        for json in [
            r#"{"a": "10005", "b": 3, "c": "x"}"#,
            r#"{"a": 10005, "b": "3", "c": "x"}"#,
            r#"{"a": " 10005 ", "b": 3.0, "c": "x"}"#,
        ] {
            let s: Sample = serde_json::from_str(json).unwrap();
            assert_eq!(
                s,
                Sample {
                    a: Some(10005),
                    b: 3,
                    c: "x".into()
                }
            );
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                r#"{"a":"10005","b":3,"c":"x"}"#
            );
        }
    }

    #[test]
    fn empty_and_null_values_are_unset() {
        let s: Sample = serde_json::from_str(r#"{"a": "", "b": 1, "c": null}"#).unwrap();
        assert_eq!(s.a, None);
        assert_eq!(s.c, "");
        let s: Sample = serde_json::from_str(r#"{"a": null, "b": 1}"#).unwrap();
        assert_eq!(s.a, None);
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"a":"","b":1,"c":""}"#
        );
    }

    #[test]
    fn wrongly_typed_values_are_errors_not_guesses() {
        for json in [
            r#"{"b": "three"}"#,
            r#"{"b": 1.5}"#,
            r#"{"b": true}"#,
            r#"{"b": null}"#,
            r#"{"b": 99999999999999999999}"#,
        ] {
            assert!(serde_json::from_str::<Sample>(json).is_err(), "{json}");
        }
    }
}
