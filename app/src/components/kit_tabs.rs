//! The Supabase kit dialog's tabs. Each loads through the proxy (or, in
//! local mode, a build's database endpoints) in the browser; SQL the tabs
//! make themselves goes to the read-only endpoint.

use crate::components::kit::{kit_fetch, kit_get};
use crate::models::kit::{
    kit_url, local_logs_url, logs_sql, query_body, result_csv, result_table, rows_sql, runnable, table_list, KitTarget,
    AUTH_USERS_SQL, MODULES_SQL, SCHEMA_SQL, TABLES_SQL,
};
use leptos::prelude::*;
use serde_json::Value;

/// Runs `sql` read-only (or through the writing endpoint when `write`).
async fn run_sql(target: KitTarget, sql: String, write: bool) -> Result<Value, String> {
    kit_fetch("POST", target.query_url(write), Some(query_body(&sql))).await
}

/// A read-only query loaded in the browser.
fn sql_resource(target: KitTarget, sql: String) -> LocalResource<Result<Value, String>> {
    LocalResource::new(move || run_sql(target.clone(), sql.clone(), false))
}

/// A JSON answer as a table (or its error, or `empty`).
#[component]
pub fn JsonTable(data: LocalResource<Result<Value, String>>, id: &'static str, empty: &'static str) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    Ok(v) => view! { <ResultTable value=v id=id empty=empty/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Rows of a result, with its CSV.
#[component]
pub fn ResultTable(value: Value, id: &'static str, empty: &'static str) -> impl IntoView {
    let (columns, rows) = result_table(&value);
    let truncated = value.get("truncated").and_then(Value::as_bool).unwrap_or(false);
    if rows.is_empty() {
        return view! { <p class="muted" id=format!("{id}-empty")>{empty}</p> }.into_any();
    }
    let csv = result_csv(&columns, &rows);
    let href = format!("data:text/csv;charset=utf-8,{}", domain::wire::url_component(&csv));
    view! {
        <div class="table-wrap"><table class="table small" id=id>
            <thead><tr>{columns.iter().map(|c| view! { <th>{c.clone()}</th> }).collect_view()}</tr></thead>
            <tbody>{rows.into_iter().map(|r| view! {
                <tr>{r.into_iter().map(|c| view! { <td>{c}</td> }).collect_view()}</tr>
            }).collect_view()}</tbody>
        </table></div>
        {truncated.then(|| view! { <p class="muted small">"The first rows only: narrow the query (WHERE, LIMIT)."</p> })}
        <a class="small" href=href download=format!("{id}.csv")>"Export CSV"</a>
    }
    .into_any()
}

/// Tables with row counts, a row browser, and the SQL editor.
#[component]
pub fn DatabaseTab(target: KitTarget, writes: bool) -> impl IntoView {
    let tables = sql_resource(target.clone(), TABLES_SQL.into());
    let browsing: RwSignal<Option<(String, String)>> = RwSignal::new(None);
    let page = RwSignal::new(0u32);
    let rows = LocalResource::new({
        let target = target.clone();
        move || {
            let (r, pick, page) = (target.clone(), browsing.get(), page.get());
            async move {
                match pick {
                    Some((schema, table)) => run_sql(r, rows_sql(&schema, &table, page), false).await.map(Some),
                    None => Ok(None),
                }
            }
        }
    });
    let sql = RwSignal::new("select now()".to_owned());
    let write = RwSignal::new(false);
    let run = Action::new_local(move |(r, q, w): &(KitTarget, String, bool)| run_sql(r.clone(), q.clone(), *w));
    view! {
        <div class="kit-db">
            <section>
                <h3>"Tables"</h3>
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match tables.await {
                            Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                            Ok(v) => {
                                let list = table_list(&v);
                                if list.is_empty() {
                                    return view! { <p class="muted" id="kit-tables-empty">"No table."</p> }.into_any();
                                }
                                view! { <ul class="plain small" id="kit-tables">{list.into_iter().map(|(schema, table, rows)| {
                                    let label = format!("{schema}.{table}");
                                    let pick = (schema, table);
                                    view! { <li><button type="button" class="link" on:click=move |_| { page.set(0); browsing.set(Some(pick.clone())); }>
                                        {label}</button>" "<span class="muted">{format!("~{rows} rows")}</span></li> }
                                }).collect_view()}</ul> }.into_any()
                            }
                        }
                    })}
                </Suspense>
            </section>
            <section>
                {move || browsing.get().map(|(s, t)| view! {
                    <h3>{format!("{s}.{t}")}</h3>
                    <Suspense fallback=|| view! { <p class="muted">"Loading rows…"</p> }>
                        {move || Suspend::new(async move {
                            match rows.await {
                                Err(e) => view! { <p class="error">{e}</p> }.into_any(),
                                Ok(None) => ().into_any(),
                                Ok(Some(v)) => view! { <ResultTable value=v id="kit-rows" empty="No row here."/> }.into_any(),
                            }
                        })}
                    </Suspense>
                    <div class="row small">
                        <button type="button" disabled=move || page.get() == 0 on:click=move |_| page.update(|p| *p -= 1)>"Previous 50"</button>
                        <button type="button" on:click=move |_| page.update(|p| *p += 1)>"Next 50"</button>
                    </div>
                })}
                <h3>"SQL"</h3>
                <textarea id="kit-sql" rows="4" aria-label="SQL" prop:value=move || sql.get()
                    on:input=move |e| sql.set(event_target_value(&e))></textarea>
                <div class="row">
                    {writes.then(|| view! {
                        <label class="check"><input type="checkbox" id="kit-write" prop:checked=move || write.get()
                            on:change=move |e| write.set(event_target_checked(&e))/>"Allow writes"</label>
                    })}
                    <button type="button" class="primary" id="kit-run" disabled=move || !sql.with(|s| runnable(s)) || run.pending().get()
                        on:click={
                            let target = target.clone();
                            move |_| { run.dispatch((target.clone(), sql.get(), write.get())); }
                        }>
                        {move || if write.get() { "Run (may write)" } else { "Run read-only" }}
                    </button>
                </div>
                <div id="kit-output" data-runs=move || run.version().get().to_string()>
                    {move || run.value().get().map(|r| match r {
                        Err(e) => view! { <p class="error" role="alert" id="kit-sql-error">{e}</p> }.into_any(),
                        Ok(v) => view! { <ResultTable value=v id="kit-result" empty="The query returned no row."/> }.into_any(),
                    })}
                </div>
            </section>
        </div>
    }
}

/// Columns, indexes, RLS policies, and the migrations history (Odoo's
/// installed modules in local mode).
#[component]
pub fn SchemaTab(target: KitTarget) -> impl IntoView {
    let migrations = match &target {
        KitTarget::Supabase(r) => view! {
            <h3>"Migrations"</h3>
            <JsonTable data=kit_get(r.clone(), "/database/migrations") id="kit-migrations" empty="No migration recorded."/>
        }
        .into_any(),
        KitTarget::Local(_) => view! {
            <h3>"Installed modules"</h3>
            <JsonTable data=sql_resource(target.clone(), MODULES_SQL.into()) id="kit-migrations" empty="No module installed."/>
        }
        .into_any(),
    };
    view! {
        {SCHEMA_SQL.iter().map(|(title, sql)| view! {
            <h3>{*title}</h3>
            <JsonTable data=sql_resource(target.clone(), (*sql).into()) id="kit-schema" empty="None."/>
        }).collect_view()}
        {migrations}
    }
}

/// Users (from `auth.users`) and the auth settings (secrets masked by the proxy).
#[component]
pub fn AuthTab(reference: String) -> impl IntoView {
    view! {
        <h3>"Users"</h3>
        <JsonTable data=sql_resource(KitTarget::Supabase(reference.clone()), AUTH_USERS_SQL.into()) id="kit-users" empty="No user."/>
        <h3>"Settings"</h3>
        <JsonTable data=kit_get(reference, "/config/auth") id="kit-auth-config" empty="No setting."/>
    }
}

/// The last log lines of a source (a build's own log in local mode, by
/// level), with a search and a time range.
#[component]
pub fn LogsTab(target: KitTarget) -> impl IntoView {
    let local = matches!(target, KitTarget::Local(_));
    let source = RwSignal::new(if local { String::new() } else { "edge_logs".to_owned() });
    let search = RwSignal::new(String::new());
    let hours = RwSignal::new(1i64);
    let lines = LocalResource::new(move || {
        let (target, source, search, hours) = (target.clone(), source.get(), search.get(), hours.get());
        async move {
            let r = match target {
                KitTarget::Local(build) => {
                    return kit_fetch("GET", local_logs_url(build, &source, &search, hours), None).await
                }
                KitTarget::Supabase(r) => r,
            };
            let sql = logs_sql(&source, &search);
            let end = crate::models::now();
            let start = end - chrono::Duration::hours(hours);
            let url = format!(
                "{}?sql={}&iso_timestamp_start={}&iso_timestamp_end={}",
                kit_url(&r, "/analytics/endpoints/logs.all"),
                domain::wire::url_component(&sql),
                domain::wire::url_component(&start.to_rfc3339()),
                domain::wire::url_component(&end.to_rfc3339()),
            );
            kit_fetch("GET", url, None).await
        }
    });
    view! {
        <div class="row small">
            <label>{if local { "Level " } else { "Source " }} <select id="kit-log-source" on:change=move |e| source.set(event_target_value(&e))>
                {if local {
                    [("", "all"), ("error", "error"), ("warning", "warning"), ("info", "info"), ("debug", "debug")]
                        .map(|(v, l)| view! { <option value=v>{l}</option> }).collect_view().into_any()
                } else {
                    ["edge_logs", "postgres_logs", "auth_logs", "storage_logs", "function_logs"]
                        .map(|s| view! { <option value=s>{s}</option> }).collect_view().into_any()
                }}
            </select></label>
            <label>"Last " <select on:change=move |e| hours.set(event_target_value(&e).parse().unwrap_or(1))>
                <option value="1">"hour"</option><option value="24">"24 hours"</option><option value="168">"7 days"</option>
            </select></label>
            <label>"Search " <input type="search" id="kit-log-search" on:change=move |e| search.set(event_target_value(&e))/></label>
        </div>
        <JsonTable data=lines id="kit-logs" empty="No log line in that range."/>
    }
}

/// Performance and security findings, each with its remediation link.
#[component]
pub fn AdvisorsTab(reference: String) -> impl IntoView {
    let kinds = [("Performance", "/advisors/performance"), ("Security", "/advisors/security")];
    view! {
        {kinds.into_iter().map(|(title, rest)| {
            let data = kit_get(reference.clone(), rest);
            view! {
                <h3>{title}</h3>
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match data.await {
                            Err(e) => view! { <p class="error">{e}</p> }.into_any(),
                            Ok(v) => {
                                let lints = v.get("lints").and_then(Value::as_array).cloned().unwrap_or_default();
                                if lints.is_empty() {
                                    return view! { <p class="muted">"Nothing to fix."</p> }.into_any();
                                }
                                view! { <ul class="plain small kit-lints">{lints.into_iter().map(|l| {
                                    let text = |k: &str| l.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
                                    let link = text("remediation");
                                    let safe = link.starts_with("https://");
                                    view! { <li><span class="badge">{text("level")}</span>" "<strong>{text("title")}</strong>
                                        " "{text("description")}" "{safe.then(|| view! { <a href=link rel="noopener" target="_blank">"How to fix"</a> })}</li> }
                                }).collect_view()}</ul> }.into_any()
                            }
                        }
                    })}
                </Suspense>
            }
        }).collect_view()}
    }
}
