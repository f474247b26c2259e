//! The scope policy's read of a JSON-RPC body (`jsonrpc::operations`), against what
//! `serde_json` itself needs to skip the same bytes (`IgnoredAny`): the floor for any
//! reader of the body. Bodies of 1 KiB, 64 KiB and 4 MiB (a `tools/call` whose arguments
//! carry the bulk), and the pre-authentication attack body of old (30,000 repeated
//! `method` and `params.name` members, about 1 MB).
//!
//! Read the ratios `policy / serde_skip` per size: they should stay near 1 and flat
//! across sizes (linear work), including for the repeated-members body.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_main};
use mcp_oauth::__bench::policy_names;
use serde::de::IgnoredAny;

/// A `tools/call` of about `size` bytes: many small argument objects, as a tool taking a
/// list of records would get.
fn tool_call(size: usize) -> Vec<u8> {
    let record = r#"{"id":12345,"name":"a record name","tags":["x","y","z"],"ok":true}"#;
    let n = size.saturating_sub(120) / (record.len() + 1);
    let records = vec![record; n.max(1)].join(",");
    format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"import","arguments":{{"records":[{records}]}}}}}}"#
    )
    .into_bytes()
}

fn repeated_members(n: usize) -> Vec<u8> {
    let mut body = String::from(r#"{"params":{"#);
    body.push_str(&vec![r#""name":"""#; n].join(","));
    body.push_str("},");
    body.push_str(&vec![r#""method":"tools/call""#; n].join(","));
    body.push('}');
    body.into_bytes()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("policy_parse");
    let bodies = [
        ("1KiB", tool_call(1 << 10)),
        ("64KiB", tool_call(64 << 10)),
        ("4MiB", tool_call(4 << 20)),
        ("repeated_1MB", repeated_members(30_000)),
    ];
    for (name, body) in &bodies {
        assert_eq!(policy_names(body), Some(2), "{name}");
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::new("serde_skip", name), body, |b, body| {
            b.iter(|| serde_json::from_slice::<IgnoredAny>(black_box(body)).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("policy", name), body, |b, body| {
            b.iter(|| policy_names(black_box(body)))
        });
    }
    group.finish();
}

/// `criterion_group!` makes an undocumented `pub fn`.
mod harness {
    #![allow(missing_docs)]
    criterion::criterion_group! {
        name = benches;
        config = criterion::Criterion::default()
            .sample_size(20)
            .warm_up_time(std::time::Duration::from_millis(500))
            .measurement_time(std::time::Duration::from_secs(2));
        targets = super::bench
    }
}

criterion_main!(harness::benches);
