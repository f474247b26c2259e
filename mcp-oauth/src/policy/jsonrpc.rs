//! What a JSON-RPC body asks the MCP server to do, read exactly as the server will read
//! it (`serde_json`: escapes such as `tools\u002fcall` resolve the same way), so a scope
//! decision can be made before the MCP service runs.
//!
//! The work is linear in the body: every `method` and every `params.name` string is read
//! once into a set, so a value repeated a million times costs one entry, and the scope
//! lookups afterwards are one per distinct value ([`Operations`]), never one per
//! (method, name) pair. The number of distinct values and the batch length are bounded
//! by [`BodyLimits`]; past a bound the body is refused, never processed further.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::id::Id;
use super::meta::MetaVersion;
use super::visit::{InsertString, Object, ObjectReader, nothing_for_scalars};
use crate::names::Kind;

/// The `tools/call` method: its `params.name` names the tool (MCP, "Tools").
pub(crate) const TOOLS_CALL: &str = Kind::Tool.method();
/// `params.name` names the prompt (MCP, "Prompts").
pub(crate) const PROMPTS_GET: &str = Kind::Prompt.method();
/// `params.uri` names the resource (MCP, "Resources"); so does `resources/subscribe`'s.
pub(crate) const RESOURCES_READ: &str = Kind::Resource.method();
const RESOURCES_SUBSCRIBE: &str = "resources/subscribe";

/// Bounds on the work one body may ask of the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BodyLimits {
    /// Messages in one JSON-RPC batch.
    pub(crate) max_batch_len: usize,
    /// Distinct method and tool names in one body, batch included.
    pub(crate) max_names: usize,
}

/// The largest batch read by default. MCP 2025-06-18 and later send no batches at all;
/// 2025-03-26 clients batch a handful of messages.
pub(crate) const DEFAULT_MAX_BATCH_LEN: usize = 32;
/// Distinct method and tool names per body by default: a real message has one of each.
pub(crate) const DEFAULT_MAX_NAMES: usize = 64;

impl Default for BodyLimits {
    fn default() -> Self {
        Self {
            max_batch_len: DEFAULT_MAX_BATCH_LEN,
            max_names: DEFAULT_MAX_NAMES,
        }
    }
}

/// What a body asks for, each name once: every method of every message, and the tools,
/// prompts and resources named by the messages whose method is `tools/call`,
/// `prompts/get`, `resources/read` or `resources/subscribe`.
///
/// A member given twice (`{"method": "a", "method": "b"}`) contributes every value:
/// whatever the server keeps, its scopes were required.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Operations {
    pub(crate) methods: HashSet<String>,
    pub(crate) tools: HashSet<String>,
    pub(crate) prompts: HashSet<String>,
    /// The URIs as written (normalised by the rules that match them).
    pub(crate) resources: HashSet<String>,
    /// Every `params.name` and every `params.uri` string, whatever the method: what
    /// `Mcp-Name` mirrors (MCP 2026-07-28 transports §Standard Request Headers).
    pub(crate) names: HashSet<String>,
    pub(crate) uris: HashSet<String>,
    /// Every `params._meta["io.modelcontextprotocol/protocolVersion"]` string: what
    /// `MCP-Protocol-Version` mirrors (MCP 2026-07-28 transports §Protocol Version Header).
    pub(crate) versions: HashSet<String>,
    /// The body is an array (a batch).
    pub(crate) batch: bool,
    /// A single message has an `id` member (a request, not a notification).
    pub(crate) has_id: bool,
    /// That `id` when it is a number or a string of at most [`super::id::MAX_ID_BYTES`].
    pub(crate) id: Option<serde_json::Value>,
}

/// Why a body that looks like JSON could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// Not JSON. (Depth is no limit: the values the policy does not read, however deeply
    /// nested, are skipped by `serde_json` iteratively, in linear time.)
    Malformed,
    /// A batch longer than [`BodyLimits::max_batch_len`].
    BatchTooLong,
    /// More distinct names than [`BodyLimits::max_names`].
    TooManyNames,
}

/// Reads `body` (a JSON value: a message, a batch, or a scalar, which asks for nothing).
pub(crate) fn operations(body: &[u8], limits: BodyLimits) -> Result<Operations, BodyError> {
    let mut state = State {
        limits,
        ops: Operations::default(),
        exceeded: None,
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let read = BodySeed(&mut state)
        .deserialize(&mut de)
        .and_then(|()| de.end());
    match (read, state.exceeded) {
        (_, Some(limit)) => Err(limit),
        (Ok(()), None) => Ok(state.ops),
        (Err(_), None) => Err(BodyError::Malformed),
    }
}

struct State {
    limits: BodyLimits,
    ops: Operations,
    /// Set when a limit stops the read (the deserializer's own error then only unwinds).
    exceeded: Option<BodyError>,
}

impl State {
    fn stop<E: de::Error>(&mut self, why: BodyError) -> E {
        self.exceeded = Some(why);
        E::custom("limit exceeded")
    }

    fn names(&self) -> usize {
        self.ops.methods.len()
            + self.ops.names.len()
            + self.ops.uris.len()
            + self.ops.versions.len()
    }

    /// Adds one message's methods and names, checking the bound on distinct names.
    fn add<E: de::Error>(&mut self, m: Message) -> Result<(), E> {
        if m.methods.contains(TOOLS_CALL) {
            self.ops.tools.extend(m.names.iter().cloned());
        }
        if m.methods.contains(PROMPTS_GET) {
            self.ops.prompts.extend(m.names.iter().cloned());
        }
        if m.methods.contains(RESOURCES_READ) || m.methods.contains(RESOURCES_SUBSCRIBE) {
            self.ops.resources.extend(m.uris.iter().cloned());
        }
        self.ops.methods.extend(m.methods);
        self.ops.names.extend(m.names);
        self.ops.uris.extend(m.uris);
        self.ops.versions.extend(m.versions);
        if self.names() > self.limits.max_names {
            return Err(self.stop(BodyError::TooManyNames));
        }
        Ok(())
    }
}

/// The whole body: one message, or a batch of them.
struct BodySeed<'s>(&'s mut State);

impl<'de> DeserializeSeed<'de> for BodySeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for BodySeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON-RPC message or batch")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let mut message = read_message(map)?;
        (self.0.ops.has_id, self.0.ops.id) = (message.has_id, message.id.take());
        self.0.add(message)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.0.ops.batch = true;
        let mut len = 0;
        while let Some(message) = seq.next_element::<Message>()? {
            len += 1;
            if len > self.0.limits.max_batch_len {
                return Err(self.0.stop(BodyError::BatchTooLong));
            }
            self.0.add(message)?;
        }
        Ok(())
    }

    // Anything else (a number, a string, null) is no request at all.
    nothing_for_scalars!();
}

/// One message: its methods, `params.name` and `params.uri` values (none when not an
/// object), and its `id`.
#[derive(Default)]
struct Message {
    methods: HashSet<String>,
    names: HashSet<String>,
    uris: HashSet<String>,
    versions: HashSet<String>,
    has_id: bool,
    id: Option<serde_json::Value>,
}

impl<'de> de::Deserialize<'de> for Message {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ElementVisitor;
        impl<'de> Visitor<'de> for ElementVisitor {
            type Value = Message;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON-RPC message")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Message, A::Error> {
                read_message(map)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Message, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Message::default())
            }
            nothing_for_scalars!();
        }
        d.deserialize_any(ElementVisitor)
    }
}

/// Reads one message object: every `method` string, every `params.name`, `params.uri`
/// and `params._meta` protocol version string, each distinct value once, and the (last)
/// `id`.
fn read_message<'de, A: MapAccess<'de>>(mut map: A) -> Result<Message, A::Error> {
    let mut m = Message::default();
    while let Some(key) = map.next_key::<Key>()? {
        match key {
            Key::Method => map.next_value_seed(InsertString(&mut m.methods))?,
            Key::Params => map.next_value_seed(Object(ParamNames {
                names: &mut m.names,
                uris: &mut m.uris,
                versions: &mut m.versions,
            }))?,
            Key::Id => (m.has_id, m.id) = (true, map.next_value::<Id>()?.0),
            Key::Other => {
                map.next_value::<IgnoredAny>()?;
            }
        }
    }
    Ok(m)
}

/// A member name of interest, compared without keeping the name.
enum Key {
    Method,
    Params,
    Id,
    Other,
}

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
                Ok(match key {
                    "method" => Key::Method,
                    "params" => Key::Params,
                    "id" => Key::Id,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

/// Adds every distinct `name` and `uri` string of a `params` object, and the protocol
/// version of its `_meta`, to its set (nothing when `params` is not an object).
struct ParamNames<'s> {
    names: &'s mut HashSet<String>,
    uris: &'s mut HashSet<String>,
    versions: &'s mut HashSet<String>,
}

impl<'de> ObjectReader<'de> for ParamNames<'_> {
    type Key = ParamKey;
    const WHAT: &'static str = "JSON-RPC params";

    fn member<A: MapAccess<'de>>(&mut self, key: ParamKey, map: &mut A) -> Result<(), A::Error> {
        match key {
            ParamKey::Name => map.next_value_seed(InsertString(&mut *self.names)),
            ParamKey::Uri => map.next_value_seed(InsertString(&mut *self.uris)),
            ParamKey::Meta => map.next_value_seed(Object(MetaVersion(&mut *self.versions))),
            ParamKey::Other => map.next_value::<IgnoredAny>().map(drop),
        }
    }
}

/// A `params` member of interest.
pub(crate) enum ParamKey {
    Name,
    Uri,
    Meta,
    Other,
}

impl<'de> de::Deserialize<'de> for ParamKey {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ParamKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<ParamKey, E> {
                Ok(match key {
                    "name" => ParamKey::Name,
                    "uri" => ParamKey::Uri,
                    "_meta" => ParamKey::Meta,
                    _ => ParamKey::Other,
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The methods and tools only (the rest is `headers.rs`'s to test).
    fn read(body: &[u8]) -> Result<Operations, BodyError> {
        operations(body, BodyLimits::default()).map(|o| Operations {
            methods: o.methods,
            tools: o.tools,
            ..Operations::default()
        })
    }

    fn ops(methods: &[&str], tools: &[&str]) -> Operations {
        Operations {
            methods: methods.iter().map(|s| (*s).to_owned()).collect(),
            tools: tools.iter().map(|s| (*s).to_owned()).collect(),
            ..Operations::default()
        }
    }

    #[test]
    fn a_single_tool_call_names_its_tool() {
        let body = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"name":"x"}}}"#;
        assert_eq!(read(body), Ok(ops(&["tools/call"], &["echo"])));
    }

    #[test]
    fn escapes_resolve_as_the_server_reads_them() {
        let body = br#"{"\u006dethod":"tools\u002fcall","params":{"na\u006de":"delete"}}"#;
        assert_eq!(read(body), Ok(ops(&["tools/call"], &["delete"])));
    }

    #[test]
    fn batches_yield_every_operation_and_skip_non_objects() {
        let body = br#"[{"method":"tools/list","params":{"name":"not-a-tool"}},3,{"method":"tools/call","params":{"name":"a"}},{"method":"notifications/initialized"}]"#;
        assert_eq!(
            read(body),
            Ok(ops(
                &["tools/list", "tools/call", "notifications/initialized"],
                &["a"]
            ))
        );
    }

    #[test]
    fn duplicate_members_yield_every_value() {
        let body =
            br#"{"method":"tools/list","method":"tools/call","params":{"name":"a","name":"b"}}"#;
        assert_eq!(
            read(body),
            Ok(ops(&["tools/list", "tools/call"], &["a", "b"]))
        );
        let body = br#"{"method":"tools/call","params":{"name":"a"},"params":{"name":"b"}}"#;
        assert_eq!(read(body), Ok(ops(&["tools/call"], &["a", "b"])));
    }

    #[test]
    fn malformed_and_odd_shapes() {
        assert_eq!(read(b"{not json"), Err(BodyError::Malformed));
        assert_eq!(
            read(br#"{"method":"x"} trailing"#),
            Err(BodyError::Malformed)
        );
        assert_eq!(read(b"42"), Ok(Operations::default()));
        assert_eq!(
            read(br#"{"method":7,"params":[1]}"#),
            Ok(Operations::default())
        );
        assert_eq!(
            read(br#"{"method":{"a":["b"]},"params":{"name":{"x":1}}}"#),
            Ok(Operations::default())
        );
        assert_eq!(
            read(br#"{"method":"tools/call","params":"x"}"#),
            Ok(ops(&["tools/call"], &[]))
        );
        // Values the policy does not read are skipped by serde_json without recursion:
        // any depth costs linear time and no stack (the server refuses such a body).
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(read(deep.as_bytes()), Ok(Operations::default()));
        let deep = format!(
            r#"{{"method":"tools/call","params":{{"name":"t","arguments":{}1{}}}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert_eq!(read(deep.as_bytes()), Ok(ops(&["tools/call"], &["t"])));
    }

    /// Repetition costs one entry per distinct value: 30,000 repeated methods and names
    /// (about 1 MB) leave one method and one tool, where pairing them made 9 * 10^8.
    #[test]
    fn repeated_members_are_read_once() {
        let mut body = String::from(r#"{"params":{"#);
        body.push_str(&vec![r#""name":"""#; 30_000].join(","));
        body.push_str("},");
        body.push_str(&vec![r#""method":"tools/call""#; 30_000].join(","));
        body.push('}');
        assert!(body.len() > 900_000);
        let read = read(body.as_bytes()).unwrap_or_default();
        assert_eq!(read, ops(&["tools/call"], &[""]));
    }

    #[test]
    fn distinct_names_and_batches_are_bounded() {
        let limits = BodyLimits {
            max_batch_len: 3,
            max_names: 4,
        };
        let names: Vec<String> = (0..4).map(|i| format!(r#""name":"t{i}""#)).collect();
        let body = format!(
            r#"{{"method":"tools/call","params":{{{}}}}}"#,
            names.join(",")
        );
        assert_eq!(
            operations(body.as_bytes(), limits),
            Err(BodyError::TooManyNames)
        );
        let body = format!(
            r#"{{"method":"tools/call","params":{{{}}}}}"#,
            names[..3].join(",")
        );
        assert!(operations(body.as_bytes(), limits).is_ok());
        let batch = |n: usize| format!("[{}]", vec![r#"{"method":"ping"}"#; n].join(","));
        assert!(operations(batch(3).as_bytes(), limits).is_ok());
        assert_eq!(
            operations(batch(4).as_bytes(), limits),
            Err(BodyError::BatchTooLong)
        );
        // Distinct methods across a batch count too.
        let methods: Vec<String> = (0..3).map(|i| format!(r#"{{"method":"m{i}"}}"#)).collect();
        let body = format!("[{}]", methods.join(","));
        assert!(operations(body.as_bytes(), limits).is_ok());
        let body = format!(
            r#"[{},{{"method":"m3","method":"m4","method":"m5"}}]"#,
            methods[..2].join(",")
        );
        assert_eq!(
            operations(body.as_bytes(), limits),
            Err(BodyError::TooManyNames)
        );
    }

    /// Whatever JSON a client sends in place of a message or a member names no operation
    /// and is no error: the MCP server refuses it itself, and nothing here runs a tool.
    #[test]
    fn json_that_is_not_a_message_names_nothing() {
        for body in [
            "42",
            "-1",
            "1.5",
            "true",
            "null",
            r#""tools/call""#,
            "[]",
            r#"[true, null, 1.5, -1, "tools/call", [{"method":"tools/call"}]]"#,
        ] {
            assert_eq!(read(body.as_bytes()), Ok(ops(&[], &[])), "{body}");
        }
    }

    #[test]
    fn members_of_another_type_name_nothing() {
        for body in [
            r#"{"method":5}"#,
            r#"{"method":null}"#,
            r#"{"method":true}"#,
            r#"{"method":["tools/call"]}"#,
            r#"{"method":{"name":"tools/call"}}"#,
        ] {
            assert_eq!(read(body.as_bytes()), Ok(ops(&[], &[])), "{body}");
        }
        for body in [
            r#"{"method":"tools/call","params":["delete"]}"#,
            r#"{"method":"tools/call","params":7}"#,
            r#"{"method":"tools/call","params":"delete"}"#,
            r#"{"method":"tools/call","params":null}"#,
            r#"{"method":"tools/call","params":{"name":5}}"#,
            r#"{"method":"tools/call","params":{"name":{"tool":"delete"}}}"#,
            r#"{"method":"tools/call","params":{"name":["delete"]}}"#,
        ] {
            assert_eq!(
                read(body.as_bytes()),
                Ok(ops(&["tools/call"], &[])),
                "{body}"
            );
        }
    }
}
