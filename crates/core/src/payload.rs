//! A task's payload: the server's own representation, kept as JSON text.
//!
//! Every listed task carries one, and almost nothing reads it: the replica
//! stores it, a few operations look up one field of it (an OMFLOW ticket's
//! `data_id`, a GEVER task's `@id`), the detail view passes it on. Held as a
//! `serde_json::Value` it was a tree of small allocations built by the
//! dialect, handed to the merge thread, printed back to text there and
//! freed there — an eighth of that thread's time in a first sync, the
//! critical path of the pull. As text it is written once, where the dialect
//! reads the server's answer, and stored as it is.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

/// Valid JSON text (checked when made), compared by its text.
#[derive(Clone, Serialize)]
#[serde(transparent)]
pub struct Payload(Box<RawValue>);

/// Read through a `Value`: serde buffers a record that is flattened into
/// another (an exchange file's tasks) and its buffer cannot hold raw JSON
/// text. Records are read only from files and tests, never in a pull.
impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde_json::Value::deserialize(deserializer).map(Payload::from)
    }
}

impl Payload {
    /// `value` as JSON text; a value JSON cannot hold (a map with
    /// non-string keys) gives `null`, as there is nothing to keep of it.
    pub fn of<T: Serialize + ?Sized>(value: &T) -> Payload {
        serde_json::value::to_raw_value(value).map_or_else(|_| Payload::default(), Payload)
    }

    /// Text read back from storage, checked to be JSON.
    pub fn from_json(text: String) -> serde_json::Result<Payload> {
        RawValue::from_string(text).map(Payload)
    }

    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// Reads the payload as `T`; only the fields `T` names are decoded.
    pub fn parse<T: DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_str(self.0.get())
    }
}

impl Default for Payload {
    fn default() -> Self {
        Payload(RawValue::NULL.to_owned())
    }
}

impl From<serde_json::Value> for Payload {
    fn from(value: serde_json::Value) -> Self {
        Payload::of(&value)
    }
}

impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[derive(Serialize)]
    struct Row {
        data_id: i64,
        name: &'static str,
    }

    #[derive(Deserialize)]
    struct Id {
        data_id: i64,
    }

    #[test]
    fn keeps_a_structs_fields_in_their_order_and_reads_one_back() {
        let payload = Payload::of(&Row {
            data_id: 4,
            name: "審核",
        });
        assert_eq!(payload.as_str(), r#"{"data_id":4,"name":"審核"}"#);
        assert_eq!(payload.parse::<Id>().unwrap().data_id, 4);
    }

    #[test]
    fn travels_inside_a_record_as_json_not_as_a_string() {
        #[derive(Serialize, Deserialize)]
        struct Holder {
            payload: Payload,
        }
        let holder = Holder {
            payload: Payload::from(json!({"@id": "https://gever/t/1"})),
        };
        let text = serde_json::to_string(&holder).unwrap();
        assert_eq!(text, r#"{"payload":{"@id":"https://gever/t/1"}}"#);
        let back: Holder = serde_json::from_str(&text).unwrap();
        assert!(back.payload == holder.payload);
        // Through a `Value` too, as tests and tools build records.
        let back: Holder = serde_json::from_value(json!({"payload": [1, "二"]})).unwrap();
        assert_eq!(back.payload.as_str(), r#"[1,"二"]"#);
    }

    #[test]
    fn survives_a_record_flattened_into_another() {
        #[derive(Serialize, Deserialize)]
        struct Inner {
            payload: Payload,
        }
        #[derive(Serialize, Deserialize)]
        struct Outer {
            account: String,
            #[serde(flatten)]
            inner: Inner,
        }
        let text = r#"{"account":"demo","payload":{"b":1,"a":[true]}}"#;
        let outer: Outer = serde_json::from_str(text).unwrap();
        assert_eq!(outer.inner.payload.as_str(), r#"{"a":[true],"b":1}"#);
        assert_eq!(
            serde_json::to_string(&outer).unwrap(),
            r#"{"account":"demo","payload":{"a":[true],"b":1}}"#
        );
    }

    #[test]
    fn refuses_stored_text_that_is_not_json() {
        assert!(Payload::from_json("{\"a\":".into()).is_err());
        assert_eq!(Payload::from_json("null".into()).unwrap().as_str(), "null");
        assert_eq!(Payload::default().as_str(), "null");
    }

    #[test]
    fn a_value_json_cannot_hold_becomes_null() {
        let map = std::collections::HashMap::from([((1, 2), "x")]);
        assert_eq!(Payload::of(&map).as_str(), "null");
    }
}
