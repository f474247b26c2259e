//! What a JSON-RPC body asks the MCP server to do, read exactly as the server will read
//! it (`serde_json`: escapes such as `tools\u002fcall` resolve the same way), so a scope
//! decision can be made before the MCP service runs.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// One thing a message asks for: a method, and for `tools/call` the tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Operation {
    pub(crate) method: String,
    pub(crate) tool: Option<String>,
}

/// The operations of a single message or a batch, or `None` when the body is not JSON
/// (then the MCP server answers the parse error and executes nothing).
///
/// A member given twice (`{"method": "a", "method": "b"}`) yields every value: whatever
/// the server keeps, its scopes were required.
pub(crate) fn operations(body: &[u8]) -> Option<Vec<Operation>> {
    serde_json::from_slice::<Operations>(body).ok().map(|o| o.0)
}

/// The arms of a visitor that reads a non-container value as "nothing here".
macro_rules! nothing_for_scalars {
    ($value:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($value)
        }
    };
}

struct Operations(Vec<Operation>);

impl<'de> Deserialize<'de> for Operations {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(OperationsVisitor)
    }
}

struct OperationsVisitor;

impl<'de> Visitor<'de> for OperationsVisitor {
    type Value = Operations;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON-RPC message or batch")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Operations, A::Error> {
        Ok(Operations(MessageVisitor.visit_map(map)?))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Operations, A::Error> {
        let mut all = Vec::new();
        while let Some(message) = seq.next_element::<Message>()? {
            all.extend(message.0);
        }
        Ok(Operations(all))
    }

    // Anything else (a number, a string, null) is no request at all.
    nothing_for_scalars!(Operations(Vec::new()));
}

/// One batch element: its operations (none when it is not an object).
struct Message(Vec<Operation>);

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ElementVisitor;
        impl<'de> Visitor<'de> for ElementVisitor {
            type Value = Message;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON-RPC message")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Message, A::Error> {
                Ok(Message(MessageVisitor.visit_map(map)?))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Message, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Message(Vec::new()))
            }
            nothing_for_scalars!(Message(Vec::new()));
        }
        d.deserialize_any(ElementVisitor)
    }
}

/// Reads one message object: every `method` string, and every `params.name` string.
struct MessageVisitor;

impl MessageVisitor {
    fn visit_map<'de, A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<Operation>, A::Error> {
        let mut methods = Vec::new();
        let mut names = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "method" => {
                    if let serde_json::Value::String(m) = map.next_value()? {
                        methods.push(m);
                    }
                }
                "params" => names.extend(map.next_value::<ParamNames>()?.0),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let mut ops = Vec::new();
        for method in methods {
            if method == "tools/call" && !names.is_empty() {
                ops.extend(names.iter().map(|n| Operation {
                    method: method.clone(),
                    tool: Some(n.clone()),
                }));
            } else {
                ops.push(Operation { method, tool: None });
            }
        }
        Ok(ops)
    }
}

/// Every `name` string of a `params` object (none when `params` is not an object).
struct ParamNames(Vec<String>);

impl<'de> Deserialize<'de> for ParamNames {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ParamsVisitor;
        impl<'de> Visitor<'de> for ParamsVisitor {
            type Value = ParamNames;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("JSON-RPC params")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ParamNames, A::Error> {
                let mut names = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "name" {
                        if let serde_json::Value::String(n) = map.next_value()? {
                            names.push(n);
                        }
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(ParamNames(names))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ParamNames, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(ParamNames(Vec::new()))
            }
            nothing_for_scalars!(ParamNames(Vec::new()));
        }
        d.deserialize_any(ParamsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(method: &str, tool: Option<&str>) -> Operation {
        Operation {
            method: method.to_owned(),
            tool: tool.map(str::to_owned),
        }
    }

    #[test]
    fn a_single_tool_call_names_its_tool() {
        let body = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"name":"x"}}}"#;
        assert_eq!(operations(body), Some(vec![op("tools/call", Some("echo"))]));
    }

    #[test]
    fn escapes_resolve_as_the_server_reads_them() {
        let body = br#"{"method":"tools/call","params":{"name":"delete"}}"#;
        assert_eq!(
            operations(body),
            Some(vec![op("tools/call", Some("delete"))])
        );
    }

    #[test]
    fn batches_yield_every_operation_and_skip_non_objects() {
        let body = br#"[{"method":"tools/list"},3,{"method":"tools/call","params":{"name":"a"}},{"method":"notifications/initialized"}]"#;
        assert_eq!(
            operations(body),
            Some(vec![
                op("tools/list", None),
                op("tools/call", Some("a")),
                op("notifications/initialized", None),
            ])
        );
    }

    #[test]
    fn duplicate_members_yield_every_value() {
        let body =
            br#"{"method":"tools/list","method":"tools/call","params":{"name":"a","name":"b"}}"#;
        assert_eq!(
            operations(body),
            Some(vec![
                op("tools/list", None),
                op("tools/call", Some("a")),
                op("tools/call", Some("b")),
            ])
        );
        let body = br#"{"method":"tools/call","params":{"name":"a"},"params":{"name":"b"}}"#;
        assert_eq!(
            operations(body),
            Some(vec![
                op("tools/call", Some("a")),
                op("tools/call", Some("b"))
            ])
        );
    }

    #[test]
    fn non_json_is_none_and_odd_shapes_are_no_operations() {
        assert_eq!(operations(b"{not json"), None);
        assert_eq!(operations(br#"{"method":"x"} trailing"#), None);
        assert_eq!(operations(b"42"), Some(vec![]));
        assert_eq!(operations(br#"{"method":7,"params":[1]}"#), Some(vec![]));
        assert_eq!(
            operations(br#"{"method":"tools/call","params":"x"}"#),
            Some(vec![op("tools/call", None)])
        );
    }
}
