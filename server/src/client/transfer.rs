//! Long transfers: `backups download` and `builds dump` (into `FILE.part`, resumed with HTTP
//! Range and `If-Range` after a lost connection or on the next run, renamed
//! when complete) and `backups import <environment> <file>` (streamed from
//! disk). A progress bar on a terminal, plain lines otherwise.

use super::commands::Call;
use super::{Api, ClientError};
use clap::{Arg, ArgAction, ArgMatches, Command};
use futures_util::StreamExt;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Tries of one download before it gives up (each resumes where the last stopped).
const TRIES: u32 = 6;

pub fn extend(c: Command, cmd: &str) -> Command {
    match cmd {
        "backups download" => c.arg(
            Arg::new("no-filestore")
                .long("no-filestore")
                .action(ArgAction::SetTrue)
                .help("Leave the filestore out (a copy made for you: it does not resume)"),
        ),
        "backups import" => {
            c.arg(Arg::new("file").required(true).value_name("FILE").help("An Odoo backup zip or a pg_dump -Fc dump"))
        }
        _ => c,
    }
}

pub fn example(cmd: &str) -> Option<&'static str> {
    match cmd {
        "backups download" => Some(
            "  odooops backups download <backup> -o production.zip\n  odooops backups download <backup> --no-filestore",
        ),
        "backups import" => Some("  odooops backups import <environment> ./customer-backup.zip"),
        "builds dump" => Some("  odooops builds dump <build> -o feature.dump && pg_restore -d mydb feature.dump"),
        _ => None,
    }
}

pub async fn run(api: &Api, op: &super::ops::Op, call: &Call, m: &ArgMatches) -> Option<Result<(), ClientError>> {
    match op.cmd {
        "backups download" => Some(download(api, call, m, m.get_flag("no-filestore")).await),
        "builds dump" => Some(download(api, call, m, false).await),
        "backups import" => Some(import(api, call, m).await),
        _ => None,
    }
}

fn bar(total: Option<u64>, what: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let b = match total {
        Some(t) => indicatif::ProgressBar::new(t),
        None => indicatif::ProgressBar::new_spinner(),
    };
    b.set_style(
        indicatif::ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    b.set_message(what.to_owned());
    Some(b)
}

/// Where a partial download keeps the validator it was started with.
fn sidecar(part: &Path) -> PathBuf {
    part.with_extension("part.etag")
}

/// The file name the console suggests, as a plain name in the current directory: its last
/// component only, letters, digits, `.`, `_` and `-`, never hidden (`.bashrc`) nor empty.
fn suggested_name(r: &reqwest::Response) -> Option<String> {
    let cd = r.headers().get(reqwest::header::CONTENT_DISPOSITION)?.to_str().ok()?;
    safe_name(cd.split("filename=").nth(1)?)
}

fn safe_name(raw: &str) -> Option<String> {
    let name = raw.trim_matches(|c| c == '"' || c == ';' || c == ' ');
    let name = name.rsplit(['/', '\\']).next()?;
    let name: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect();
    let name = name.trim_start_matches('.').to_owned();
    (!name.is_empty()).then_some(name)
}

async fn download(api: &Api, call: &Call, m: &ArgMatches, no_filestore: bool) -> Result<(), ClientError> {
    let mut call = call.clone();
    if no_filestore {
        call.query.retain(|(k, _)| k != "filestore");
        call.query.push(("filestore".into(), "false".into()));
    }
    let backup = call.args.first().cloned().unwrap_or_default();
    let fail = |what: &str, e: &dyn std::fmt::Display| ClientError::Failed(format!("{what}: {e}"));
    // Without -o the name is the console's; it is known once the first answer arrives.
    let mut target: Option<PathBuf> = m.get_one::<String>("output").map(PathBuf::from);
    if target.as_deref() == Some(Path::new("-")) {
        let answer = api.send(call.request(api)).await?;
        return std::io::stdout().lock().write_all(&answer.body).map_err(|e| fail("stdout", &e));
    }
    let mut progress: Option<indicatif::ProgressBar> = None;
    let mut tries = 0;
    loop {
        tries += 1;
        let part = target.as_ref().map(|t| t.with_extension(ext_part(t)));
        let have = part.as_ref().and_then(|p| std::fs::metadata(p).ok()).map_or(0, |m| m.len());
        let etag = part.as_ref().and_then(|p| std::fs::read_to_string(sidecar(p)).ok());
        let mut req = call.request(api);
        if let (true, Some(tag)) = (have > 0, etag.as_deref()) {
            req = req
                .header(reqwest::header::RANGE, format!("bytes={have}-"))
                .header(reqwest::header::IF_RANGE, tag.trim());
        }
        let r = api.send_any(req).await?;
        // 416: the part is already whole.
        if r.status() == reqwest::StatusCode::RANGE_NOT_SATISFIABLE && have > 0 {
            return complete(part.as_deref(), target.as_deref(), &progress);
        }
        let r = super::refused(r).await?;
        if target.is_none() {
            let named = PathBuf::from(suggested_name(&r).unwrap_or_else(|| format!("backup-{backup}.zip")));
            // Without -o nothing already there is overwritten.
            if named.exists() {
                return Err(ClientError::Failed(format!(
                    "{} exists: remove it or choose a file with -o",
                    named.display()
                )));
            }
            let part = named.with_extension(ext_part(&named));
            target = Some(named);
            // A part of that name from an earlier run: ask again, for the rest only.
            if std::fs::metadata(&part).is_ok_and(|m| m.len() > 0) && sidecar(&part).exists() {
                tries -= 1;
                continue;
            }
        }
        let target_path = target.clone().expect("named above");
        let part = target_path.with_extension(ext_part(&target_path));
        let resumed = r.status() == reqwest::StatusCode::PARTIAL_CONTENT;
        let offset = if resumed { have } else { 0 };
        let total = r.content_length().map(|l| l + offset);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(resumed)
            .truncate(!resumed)
            .open(&part)
            .map_err(|e| fail(&part.display().to_string(), &e))?;
        match r.headers().get(reqwest::header::ETAG).and_then(|v| v.to_str().ok()) {
            Some(tag) if r.headers().get(reqwest::header::ACCEPT_RANGES).is_some_and(|v| v == "bytes") => {
                std::fs::write(sidecar(&part), tag).map_err(|e| fail("saving the download's validator", &e))?;
            }
            _ => drop(std::fs::remove_file(sidecar(&part))),
        }
        if progress.is_none() {
            progress = bar(total, &target_path.display().to_string());
            if progress.is_none() {
                eprintln!(
                    "downloading {} ({} bytes)",
                    target_path.display(),
                    total.map_or("?".into(), |t| t.to_string())
                );
            }
        }
        if let Some(p) = &progress {
            if let Some(t) = total {
                p.set_length(t);
            }
            p.set_position(offset);
        }
        if resumed {
            let msg = format!("resuming at byte {offset}");
            match &progress {
                Some(p) => p.println(msg),
                None => eprintln!("{msg}"),
            }
        }
        let mut got = offset;
        let mut stream = r.bytes_stream();
        let mut lost = None;
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(bytes) => {
                    file.write_all(&bytes).map_err(|e| fail(&part.display().to_string(), &e))?;
                    got += bytes.len() as u64;
                    if let Some(p) = &progress {
                        p.set_position(got);
                    }
                }
                Err(e) => {
                    lost = Some(e.to_string());
                    break;
                }
            }
        }
        file.flush().map_err(|e| fail(&part.display().to_string(), &e))?;
        drop(file);
        let short = total.is_some_and(|t| got < t);
        if lost.is_none() && !short {
            return complete(Some(&part), Some(&target_path), &progress);
        }
        let msg =
            format!("the connection was lost at byte {got}{}", lost.map(|l| format!(" ({l})")).unwrap_or_default());
        if tries >= TRIES {
            return Err(ClientError::Failed(format!("{msg}; run the command again to resume")));
        }
        match &progress {
            Some(p) => p.println(format!("{msg}; resuming")),
            None => eprintln!("{msg}; resuming"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// `backup.zip` → `zip.part` (so `backup.zip.part`).
fn ext_part(target: &Path) -> String {
    match target.extension().and_then(|e| e.to_str()) {
        Some(e) => format!("{e}.part"),
        None => "part".into(),
    }
}

fn complete(
    part: Option<&Path>,
    target: Option<&Path>,
    progress: &Option<indicatif::ProgressBar>,
) -> Result<(), ClientError> {
    let (Some(part), Some(target)) = (part, target) else {
        return Err(ClientError::Failed("nothing was downloaded".into()));
    };
    std::fs::rename(part, target).map_err(|e| ClientError::Failed(format!("{}: {e}", target.display())))?;
    let _ = std::fs::remove_file(sidecar(part));
    if let Some(p) = progress {
        p.finish_and_clear();
    }
    let size = std::fs::metadata(target).map(|m| m.len()).unwrap_or(0);
    println!("saved {} ({size} bytes)", target.display());
    Ok(())
}

async fn import(api: &Api, call: &Call, m: &ArgMatches) -> Result<(), ClientError> {
    let path = PathBuf::from(m.get_one::<String>("file").cloned().unwrap_or_default());
    let file =
        tokio::fs::File::open(&path).await.map_err(|e| ClientError::Failed(format!("{}: {e}", path.display())))?;
    let len = file.metadata().await.map_err(|e| ClientError::Failed(format!("{}: {e}", path.display())))?.len();
    let progress = bar(Some(len), &format!("uploading {}", path.display()));
    if progress.is_none() {
        eprintln!("uploading {} ({len} bytes)", path.display());
    }
    let p = progress.clone();
    let mut sent = 0u64;
    let stream = tokio_util::io::ReaderStream::with_capacity(file, 1 << 20).inspect(move |chunk| {
        if let (Ok(c), Some(p)) = (chunk, &p) {
            sent += c.len() as u64;
            p.set_position(sent);
        }
    });
    let ctype =
        if path.extension().is_some_and(|e| e == "zip") { "application/zip" } else { "application/octet-stream" };
    let req = api
        .request(call.method, &call.path)
        .header(reqwest::header::CONTENT_TYPE, ctype)
        .body(reqwest::Body::wrap_stream(stream));
    let answer = api.send(req).await;
    if let Some(p) = progress {
        p.finish_and_clear();
    }
    let answer = answer?;
    let v = answer.json()?;
    if m.get_flag("json") {
        println!("{v}");
    } else {
        println!(
            "imported into a new build {} (backup {})",
            v["build_id"].as_str().unwrap_or("-"),
            v["backup_id"].as_str().unwrap_or("-")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_files_sit_next_to_the_target() {
        assert_eq!(Path::new("a/b.zip").with_extension(ext_part(Path::new("a/b.zip"))), Path::new("a/b.zip.part"));
        assert_eq!(sidecar(Path::new("b.zip.part")), Path::new("b.zip.part.etag"));
    }

    /// A console names the file; it never picks a path, a hidden file or a strange name.
    #[test]
    fn suggested_names_stay_plain_files_here() {
        assert_eq!(safe_name("\"shop_2026-12-07.zip\"").as_deref(), Some("shop_2026-12-07.zip"));
        assert_eq!(safe_name("\"../../etc/passwd\"").as_deref(), Some("passwd"));
        assert_eq!(safe_name("\".bashrc\"").as_deref(), Some("bashrc"));
        assert_eq!(safe_name("\"a b\u{1b}[2J.zip\"").as_deref(), Some("a_b__2J.zip"));
        assert_eq!(safe_name("\"..\""), None);
        assert_eq!(safe_name("\"\""), None);
    }
}
