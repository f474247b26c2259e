//! `cargo mcp-oauth new <dir>`: a project that builds and runs, for one provider preset
//! (`mcp_oauth::providers`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mcp_oauth::providers::{self, Provider};

const CARGO_TOML: &str = include_str!("templates/Cargo.toml.tmpl");
const MAIN_RS: &str = include_str!("templates/main.rs.tmpl");
const README: &str = include_str!("templates/README.md.tmpl");
const GITIGNORE: &str = include_str!("templates/gitignore.tmpl");

/// `cargo mcp-oauth new`.
#[derive(Debug, clap::Args)]
pub(crate) struct NewArgs {
    /// The directory to create (must not exist, or be empty).
    dir: PathBuf,
    /// The identity provider (`generic` for any OAuth 2.1 / OpenID Connect server).
    #[arg(long, default_value = "generic")]
    provider: String,
    /// Depend on a local checkout of mcp-oauth (its repository root) instead of crates.io.
    #[arg(long, value_name = "CHECKOUT")]
    path: Option<PathBuf>,
    /// The crate's name (default: the directory's name).
    #[arg(long)]
    name: Option<String>,
}

pub(crate) fn run(args: &NewArgs) -> ExitCode {
    match generate(args) {
        Ok(files) => {
            println!(
                "Created {} ({}). Next:\n  cd {}\n  cp .env.example .env   # and fill it in\n  cargo mcp-oauth doctor\n  cargo run",
                args.dir.display(),
                files.join(", "),
                args.dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("error: {why}");
            ExitCode::FAILURE
        }
    }
}

/// Writes the project; the names of the files written.
fn generate(args: &NewArgs) -> Result<Vec<&'static str>, String> {
    let provider = providers::find(&args.provider).ok_or_else(|| {
        let known: Vec<&str> = providers::all().iter().map(|p| p.name()).collect();
        format!(
            "unknown provider `{}`; known providers: {}",
            args.provider,
            known.join(", ")
        )
    })?;
    let name = crate_name(args)?;
    let dependency = dependency(args.path.as_deref())?;
    let dir = &args.dir;
    if std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(format!(
            "{} exists and is not empty: nothing was written",
            dir.display()
        ));
    }
    let files = [
        (
            "Cargo.toml",
            CARGO_TOML
                .replace("{{name}}", &name)
                .replace("{{mcp_oauth}}", &dependency),
        ),
        ("src/main.rs", MAIN_RS.to_owned()),
        (".env.example", env_example(provider)),
        (".gitignore", GITIGNORE.to_owned()),
        ("README.md", readme(&name, provider)),
    ];
    std::fs::create_dir_all(dir.join("src"))
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for (file, contents) in &files {
        let path = dir.join(file);
        std::fs::write(&path, contents)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(files.iter().map(|(file, _)| *file).collect())
}

/// `--name`, else the directory's name, checked as cargo would (a package name).
fn crate_name(args: &NewArgs) -> Result<String, String> {
    let name = match &args.name {
        Some(name) => name.clone(),
        None => args
            .dir
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("{} has no usable name: use --name", args.dir.display()))?
            .to_owned(),
    };
    let valid = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && name.starts_with(|c: char| c.is_ascii_alphabetic());
    if valid {
        Ok(name)
    } else {
        Err(format!(
            "`{name}` is not a crate name (a letter, then letters, digits, `-` or `_`): use --name"
        ))
    }
}

/// The `mcp-oauth` dependency line: crates.io, or a checkout with `--path`.
fn dependency(checkout: Option<&Path>) -> Result<String, String> {
    let version = env!("CARGO_PKG_VERSION");
    let Some(checkout) = checkout else {
        return Ok(format!(
            "mcp-oauth = {{ version = \"{version}\", features = [\"rmcp\"] }}"
        ));
    };
    let crate_dir = checkout.join("mcp-oauth");
    if !crate_dir.join("Cargo.toml").is_file() {
        return Err(format!(
            "{} is not a checkout of mcp-oauth (no mcp-oauth/Cargo.toml)",
            checkout.display()
        ));
    }
    let absolute =
        std::fs::canonicalize(&crate_dir).map_err(|e| format!("{}: {e}", crate_dir.display()))?;
    // TOML basic strings escape `\` and `"`.
    let path = absolute
        .to_string_lossy()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    Ok(format!(
        "mcp-oauth = {{ path = \"{path}\", features = [\"rmcp\"] }}"
    ))
}

/// Every variable the provider needs, with a placeholder and a one-line comment, then
/// the provider's name, the resource and the listen address.
fn env_example(provider: &Provider) -> String {
    let mut text = format!(
        "# {} configuration for this MCP server. Copy to .env (never commit .env).\n\
         # Every MCP_OAUTH_* variable may also be given as NAME_FILE, a file holding the value.\n\n\
         # The identity provider preset.\nMCP_OAUTH_PROVIDER={}\n",
        provider.title(),
        provider.name()
    );
    let mut named = vec!["MCP_OAUTH_PROVIDER", "BIND_ADDR"];
    for variable in provider.variables() {
        if named.contains(&variable.name) {
            continue;
        }
        named.push(variable.name);
        let required = if variable.required {
            "required"
        } else {
            "optional"
        };
        text.push_str(&format!(
            "\n# {} ({required})\n{}={}\n",
            variable.help, variable.name, variable.example
        ));
    }
    if !named.contains(&"MCP_OAUTH_RESOURCE") {
        text.push_str(
            "\n# This server's public URL: the audience its tokens must carry (required)\n\
             MCP_OAUTH_RESOURCE=http://127.0.0.1:8080/mcp\n",
        );
    }
    text.push_str("\n# The address the server listens on.\nBIND_ADDR=127.0.0.1:8080\n");
    text
}

fn readme(name: &str, provider: &Provider) -> String {
    let caveats = match provider.caveats() {
        "" => String::new(),
        caveats => format!("\n### Caveats\n\n{caveats}\n"),
    };
    README
        .replace("{{name}}", name)
        .replace("{{title}}", provider.title())
        .replace("{{console_guide}}", provider.console_guide())
        .replace("{{caveats}}", &caveats)
}
