//! `Leptos.toml`, which the console reads at run time, says what cargo-leptos
//! builds from `[[workspace.metadata.leptos]]` in Cargo.toml; and the console
//! serves with what the file says.

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn leptos_toml_agrees_with_what_cargo_leptos_builds() {
    let cargo: toml::Table = std::fs::read_to_string(root().join("Cargo.toml")).unwrap().parse().unwrap();
    let built = &cargo["workspace"]["metadata"]["leptos"].as_array().expect("[[workspace.metadata.leptos]]")[0];
    let path = root().join("Leptos.toml");
    let read = leptos::config::get_config_from_file(&path).expect("Leptos.toml parses").leptos_options;
    let text = |key: &str| built[key].as_str().unwrap_or_else(|| panic!("Cargo.toml: no {key}")).to_owned();
    assert_eq!(&*read.output_name, text("name"), "output name");
    assert_eq!(&*read.site_root, text("site-root"), "site root");
    assert_eq!(&*read.site_pkg_dir, text("site-pkg-dir"), "site pkg dir");
    assert_eq!(read.site_addr.to_string(), text("site-addr"), "site address");
    assert_eq!(i64::from(read.reload_port), built["reload-port"].as_integer().unwrap(), "reload port");
}

#[test]
fn the_console_serves_with_what_leptos_toml_says() {
    use clap::Parser;
    let cli = server::cli::Cli::try_parse_from([
        "odooops",
        "--listen",
        "127.0.0.1:4321",
        "--leptos-toml",
        root().join("Leptos.toml").to_str().unwrap(),
    ])
    .unwrap();
    let options = server::startup::leptos_options(&cli.serve).unwrap();
    assert_eq!(&*options.output_name, "odooops");
    assert_eq!(&*options.site_pkg_dir, "pkg");
    assert_eq!(options.site_addr.to_string(), "127.0.0.1:4321", "the listen flag wins");
}
