//! The image a build starts from: the project's base image, which must be on
//! this engine (no registry is assumed), or the stand-in, built here from its
//! static binary and a static busybox; and the Dockerfile generated for a
//! repository that brings none.

use super::events::BuildLog;
use super::infra::{BuildInfra, STANDIN_IMAGE};
use crate::platform::Platform;
use anyhow::{bail, Context};
use std::collections::HashMap;

/// Modules the stand-in image provides (a subset of Odoo Community's).
pub(crate) const STANDIN_PROVIDES: &[&str] = &[
    "base",
    "web",
    "mail",
    "bus",
    "contacts",
    "product",
    "uom",
    "sale",
    "sale_management",
    "account",
    "stock",
    "purchase",
    "crm",
    "website",
    "portal",
    "hr",
    "project",
    "calendar",
    "payment",
    "delivery",
    "iap",
    "auth_oauth",
    "auth_signup",
    "digest",
    "resource",
    "utm",
    "sales_team",
    "analytic",
    "l10n_generic_coa",
    "sms",
    "google_calendar",
    "microsoft_calendar",
    "point_of_sale",
    "mrp",
    "board",
    "base_setup",
    "http_routing",
    "web_editor",
];

pub(crate) fn generated_dockerfile(base: &str, has_requirements: bool) -> String {
    let mut d = format!("FROM {base}\nCOPY . /mnt/extra-addons\n");
    if has_requirements && !base.starts_with("odooops/odoo-standin") {
        d.push_str("USER root\nRUN pip3 install --no-cache-dir --break-system-packages -r /mnt/extra-addons/requirements.txt || pip3 install --no-cache-dir -r /mnt/extra-addons/requirements.txt\nUSER odoo\n");
    }
    d
}

/// Where the stand-in image's shell comes from: Debian's `busybox-static`.
const STANDIN_SHELL: &str = "/bin/busybox";

/// The base image must be there: the stand-in is built from its binary (and
/// a static busybox, so shells work); the official image must have been
/// loaded (no registry is assumed). A stand-in image built from other files
/// than today's is rebuilt.
pub async fn ensure_base_image(p: &Platform, infra: &BuildInfra, base: &str, log: &BuildLog) -> anyhow::Result<()> {
    if base != STANDIN_IMAGE {
        if p.runtime.image_exists(base).await? {
            return Ok(());
        }
        bail!("the base image {base} is not on this Docker engine and no registry is configured: load it (`docker load`) or use {STANDIN_IMAGE}");
    }
    let binary =
        infra.standin_binary.as_ref().context("the stand-in binary is not configured (ODOOOPS_STANDIN_BIN)")?;
    let odoo = std::fs::read(binary).with_context(|| format!("reading the stand-in binary {}", binary.display()))?;
    let shell = std::fs::read(STANDIN_SHELL).ok();
    let content = {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(&odoo);
        h.update(shell.as_deref().unwrap_or_default());
        hex::encode(h.finalize())
    };
    let labels = p.runtime.image_labels(base).await?;
    if labels.as_ref().and_then(|l| l.get("odooops.standin.content")) == Some(&content) {
        return Ok(());
    }
    std::fs::create_dir_all(&infra.work_dir)?;
    let context =
        super::context::Scratch(infra.work_dir.join(format!("standin-{}.tar", uuid::Uuid::new_v4().simple())));
    std::fs::write(&context.0, standin_context(&odoo, shell.as_deref())?)?;
    match &shell {
        Some(_) => log.info("image", format!("building {STANDIN_IMAGE} from {} and {STANDIN_SHELL}", binary.display())),
        None => log.warn(
            "image",
            format!("{STANDIN_SHELL} is missing (Debian's busybox-static): the stand-in image will have no shell"),
        ),
    }
    let (lines, forward) = log.lines("image", false);
    p.runtime
        .build_image(
            &context.0,
            STANDIN_IMAGE,
            HashMap::from([("odooops.managed".into(), "true".into()), ("odooops.standin.content".into(), content)]),
            None,
            lines,
        )
        .await?;
    let _ = forward.await;
    Ok(())
}

/// The build context of the stand-in image: a root filesystem with `odoo`,
/// and busybox with a link per applet (`sh`, `ls`, `top`, `vi`, …).
fn standin_context(odoo: &[u8], busybox: Option<&[u8]>) -> anyhow::Result<Vec<u8>> {
    let mut ctx = tar::Builder::new(Vec::new());
    let dockerfile = "FROM scratch\nCOPY rootfs/ /\nENV PATH=/usr/bin:/bin:/usr/sbin:/sbin\nEXPOSE 8069\nENTRYPOINT [\"/usr/bin/odoo\"]\n";
    let mut file = |name: &str, data: &[u8], mode: u32| -> anyhow::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_cksum();
        ctx.append_data(&mut h, name, data)?;
        Ok(())
    };
    file("Dockerfile", dockerfile.as_bytes(), 0o644)?;
    file("rootfs/usr/bin/odoo", odoo, 0o755)?;
    file("rootfs/etc/passwd", b"root:x:0:0:root:/tmp:/bin/sh\n", 0o644)?;
    file("rootfs/etc/group", b"root:x:0:\n", 0o644)?;
    file("rootfs/tmp/.keep", b"", 0o644)?;
    if let Some(busybox) = busybox {
        file("rootfs/bin/busybox", busybox, 0o755)?;
        let list =
            std::process::Command::new(STANDIN_SHELL).arg("--list").output().context("listing busybox applets")?;
        for applet in String::from_utf8_lossy(&list.stdout).lines().map(str::trim) {
            if applet.is_empty() || applet == "busybox" || applet.contains('/') {
                continue;
            }
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            h.set_mode(0o777);
            ctx.append_link(&mut h, format!("rootfs/bin/{applet}"), "busybox")?;
        }
    }
    Ok(ctx.into_inner()?)
}
