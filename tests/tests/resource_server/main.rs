//! Integration tests of `mcp-oauth` as an OAuth 2.1 protected resource, over real HTTP on
//! 127.0.0.1: a `TestAuthServer` (discovery + JWKS) and an actix-web server wrapped with
//! `McpOAuth`, called with awc. Comments cite the RFC or MCP spec section each test checks.
//!
//! One binary with modules, to keep link time low.
#![allow(clippy::unwrap_used)]

// Shared with `tests/no_leaks.rs`: each binary uses part of it.
#[allow(dead_code)]
mod common;

mod api_keys;
mod cache;
mod config;
mod cors;
mod discovery;
mod dpop;
mod dpop_nonce;
mod extraction;
mod extractor;
mod httpauth;
mod introspection;
mod issuers;
mod jwks;
mod jwt;
mod mcp_headers;
mod mcp_names;
mod mcp_policy;
mod metadata;
mod origin;
mod outside_tokens;
mod providers;
mod rate_limit;
mod validator;
