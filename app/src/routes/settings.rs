//! The user's settings: profile facts, SSH keys and personal access tokens.

use crate::components::forms::{error_message, ActionError};
use crate::components::when::When;
use crate::functions::shells::{list_ssh_keys, AddSshKey, RemoveSshKey};
use crate::functions::tokens::{list_tokens, CreateToken, RevokeToken};
use crate::models::{role_label, short_time};
use crate::MeResource;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let me = expect_context::<MeResource>();
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_tokens());
    view! {
        <Title text="Settings"/>
        <div class="page-head"><h1>"Settings"</h1><a class="small" href="/settings/platform" id="platform-settings-link">"Platform settings"</a></div>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                me.await.ok().flatten().map(|m| view! {
                    <dl class="facts">
                        <dt>"Email"</dt><dd>{m.email}</dd>
                        <dt>"Name"</dt><dd>{m.display_name}</dd>
                        <dt>"Platform role"</dt><dd>{role_label(m.platform_role.as_deref().unwrap_or(""))}</dd>
                    </dl>
                })
            })}
        </Transition>
        <SshKeys/>
        <section class="card">
            <h2>"API tokens"</h2>
            <p class="muted">"Personal access tokens authenticate the REST API (" <a href="/api/v1/openapi.json">"OpenAPI"</a>") with "<code>"Authorization: Bearer …"</code>"."</p>
            {move || create.value().get().and_then(Result::ok).map(|t| view! {
                <p class="notice">"Copy your new token now; it will not be shown again: " <code class="secret">{t.secret}</code></p>
            })}
            <ActionForm action=create attr:class="row">
                <input type="text" name="name" placeholder="Token name, e.g. CI" required maxlength="80" aria-label="Token name"/>
                <select name="expires_in_days" aria-label="Expiry">
                    <option value="30">"30 days"</option>
                    <option value="90" selected>"90 days"</option>
                    <option value="365">"1 year"</option>
                </select>
                <select name="scope" aria-label="Scope">
                    <option value="api" selected>"The API"</option>
                    <option value="metrics">"/metrics only (platform staff; for a scraper)"</option>
                </select>
                <button type="submit">"Create token"</button>
            </ActionForm>
            <ActionError error=Signal::derive(move || create.value().with(error_message))/>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let list = tokens.await.unwrap_or_default();
                    view! {
                        <table class="table">
                            <thead><tr><th>"Name"</th><th>"Token"</th><th>"Created"</th><th>"Expires"</th><th>"Last used"</th><th></th></tr></thead>
                            <tbody>{list.into_iter().map(|t| view! {
                                <tr>
                                    <td>{t.name}</td>
                                    <td><code>{t.prefix} "…"</code></td>
                                    <td class="small"><When at=t.created_at/></td>
                                    <td class="small">{t.expires_at.map(|d| short_time(&d)).unwrap_or_else(|| "never".into())}</td>
                                    <td class="small">{t.last_used_at.map(|d| short_time(&d)).unwrap_or_else(|| "never".into())}</td>
                                    <td>{if t.revoked {
                                        view! { <span class="muted">"revoked"</span> }.into_any()
                                    } else {
                                        view! {
                                            <ActionForm action=revoke attr:class="inline">
                                                <input type="hidden" name="id" value=t.id.to_string()/>
                                                <button type="submit" class="link danger">"Revoke"</button>
                                            </ActionForm>
                                        }.into_any()
                                    }}</td>
                                </tr>
                            }).collect_view()}</tbody>
                        </table>
                    }
                })}
            </Transition>
        </section>
    }
}

/// SSH public keys for `ssh <build>@host -p <port>`.
#[component]
fn SshKeys() -> impl IntoView {
    let add = ServerAction::<AddSshKey>::new();
    let remove = ServerAction::<RemoveSshKey>::new();
    let keys = Resource::new(move || (add.version().get(), remove.version().get()), |_| list_ssh_keys());
    view! {
        <section class="card" id="ssh-keys">
            <h2>"SSH keys"</h2>
            <p class="muted">"Keys let you open a shell on a build with " <code>"ssh <build>@<host> -p <port>"</code>
                " (each live build's page shows its command). ed25519, ECDSA, or RSA of at least 3072 bits."</p>
            <ActionForm action=add attr:class="stack narrow-form">
                <input type="text" name="name" placeholder="Name (defaults to the key's comment)" maxlength="100" aria-label="Key name"/>
                <textarea name="public_key" rows="3" required placeholder="ssh-ed25519 AAAA… you@laptop" aria-label="Public key"></textarea>
                <button type="submit">"Add key"</button>
            </ActionForm>
            <ActionError error=Signal::derive(move || add.value().with(error_message))/>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let list = keys.await.unwrap_or_default();
                    view! {
                        <table class="table" id="ssh-key-list">
                            <thead><tr><th>"Name"</th><th>"Fingerprint"</th><th>"Type"</th><th>"Added"</th><th>"Last used"</th><th></th></tr></thead>
                            <tbody>{list.into_iter().map(|k| view! {
                                <tr>
                                    <td>{k.name}</td>
                                    <td><code>{k.fingerprint}</code></td>
                                    <td class="small">{format!("{} ({} bits)", k.algorithm, k.bits)}</td>
                                    <td class="small"><When at=k.created_at/></td>
                                    <td class="small">{k.last_used_at.map(|d| short_time(&d)).unwrap_or_else(|| "never".into())}</td>
                                    <td>
                                        <ActionForm action=remove attr:class="inline">
                                            <input type="hidden" name="id" value=k.id.to_string()/>
                                            <button type="submit" class="link danger">"Remove"</button>
                                        </ActionForm>
                                    </td>
                                </tr>
                            }).collect_view()}</tbody>
                        </table>
                    }
                })}
            </Transition>
        </section>
    }
}
