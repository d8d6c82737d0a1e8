//! What keeps the console fast at a real team's size (#21): row-level
//! security asks who is acting once per statement, and the grid and the REST
//! build list read a page of branches (20 by default) with their five newest
//! builds, never every build the project kept. Outsiders still learn nothing.

use crate::helpers::spawn_app;
use serde_json::Value;

/// No policy calls a who-is-acting function bare (it would run once per row).
#[tokio::test]
async fn rls_policies_evaluate_who_is_acting_once() {
    let app = spawn_app().await;
    let bare: Vec<(String, String, String)> = sqlx::query_as(
        r"SELECT tablename::text, policyname::text, coalesce(qual, '') || ' ' || coalesce(with_check, '')
            FROM pg_policies WHERE schemaname = 'ops'
             AND (coalesce(qual, '') || ' ' || coalesce(with_check, ''))
                 ~ '(?<!SELECT )ops\.(current_user_id|platform_role|is_platform_admin|reads_everything|reads_billing|reads_console_mail|my_email)\(\)'",
    )
    .fetch_all(app.platform.db.owner())
    .await
    .unwrap();
    assert!(bare.is_empty(), "policies calling who-is-acting per row (wrap them in a sub-select): {bare:#?}");
    let wrapped: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_policies WHERE schemaname = 'ops' AND qual LIKE '%SELECT ops.reads_everything()%'",
    )
    .fetch_one(app.platform.db.owner())
    .await
    .unwrap();
    assert!(wrapped > 10, "the policies still read everything for staff: {wrapped}");
}

#[tokio::test]
async fn the_grid_and_the_build_list_come_a_page_of_branches_at_a_time() {
    let app = spawn_app().await;
    let ann = app.signed_up("ann@acme.test", "Acme").await;
    let project = ann.create_project("Big").await;
    let id = project["id"].as_str().unwrap().to_owned();
    let api = app.api(&ann.token().await);
    // 25 branches besides production (2 staging), 8 builds each, as the owner.
    let owner = app.platform.db.owner();
    sqlx::query(
        "INSERT INTO ops.environments (id, tenant_id, project_id, branch, stage)
         SELECT gen_random_uuid(), p.tenant_id, p.id,
                CASE WHEN g <= 2 THEN 'release/' || g ELSE 'feature/' || lpad(g::text, 2, '0') END,
                CASE WHEN g <= 2 THEN 'staging' ELSE 'development' END
           FROM ops.projects p, generate_series(1, 25) g WHERE p.id = $1::uuid",
    )
    .bind(&id)
    .execute(owner)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO ops.builds (id, tenant_id, project_id, env_id, branch, stage, commit_sha, trigger, state, result,
                                 created_at)
         SELECT gen_random_uuid(), e.tenant_id, e.project_id, e.id, e.branch, e.stage, md5(e.branch || g) || substr(md5(g::text), 1, 8), 'push', 'done', 'ok',
                now() - make_interval(mins => g)
           FROM ops.environments e, generate_series(1, 8) g WHERE e.project_id = $1::uuid",
    )
    .bind(&id)
    .execute(owner)
    .await
    .unwrap();

    // The server function behind the grid: page 1 holds production, staging, then development by name.
    let (status, first) = ann.rpc("builds/list", &[("project_id", &id), ("page", "1")]).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!((first["total"].as_u64(), first["per_page"].as_u64()), (Some(26), Some(20)));
    let branches: Vec<&str> =
        first["branches"].as_array().unwrap().iter().map(|b| b["environment"]["branch"].as_str().unwrap()).collect();
    assert_eq!(branches.len(), 20);
    assert_eq!(&branches[..4], ["main", "release/1", "release/2", "feature/03"]);
    for b in first["branches"].as_array().unwrap() {
        let times: Vec<&str> =
            b["builds"].as_array().unwrap().iter().map(|x| x["created_at"].as_str().unwrap()).collect();
        assert_eq!(times.len(), 5, "the five newest of eight: {times:?}");
        assert!(times.windows(2).all(|w| w[0] > w[1]), "newest first: {times:?}");
    }
    let (_, second) = ann.rpc("builds/list", &[("project_id", &id), ("page", "2")]).await;
    let rest: Vec<&str> =
        second["branches"].as_array().unwrap().iter().map(|b| b["environment"]["branch"].as_str().unwrap()).collect();
    assert_eq!(rest, ["feature/20", "feature/21", "feature/22", "feature/23", "feature/24", "feature/25"]);

    // REST: the same pages as a flat list.
    let (status, list) = api.get(&format!("/api/v1/projects/{id}/builds")).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 20 * 5, "20 branches × their 5 newest");
    let (_, list) = api.get(&format!("/api/v1/projects/{id}/builds?page=2&per_page=5")).await;
    let on_page: std::collections::BTreeSet<&str> =
        list.as_array().unwrap().iter().map(|b| b["branch"].as_str().unwrap()).collect();
    assert_eq!(
        on_page.into_iter().collect::<Vec<_>>(),
        ["feature/05", "feature/06", "feature/07", "feature/08", "feature/09"]
    );
    let (status, _) = api.get(&format!("/api/v1/projects/{id}/builds?per_page=100000")).await;
    assert_eq!(status, 200, "a large page is capped, not refused");

    // The project page itself shows the first page and offers the next.
    let html = ann
        .get(&format!("/projects/{}/{}", project["tenant_slug"].as_str().unwrap(), project["slug"].as_str().unwrap()))
        .await;
    let html = html.text().await.unwrap();
    assert!(html.contains("branches 1–20 of 26") && html.contains("grid-pager"), "no pager on the page");
    assert_eq!(html.matches("class=\"branch-link\"").count(), 20);

    // An outsider learns nothing, over either door.
    let eve = app.signed_up("eve@evil.test", "Evil").await;
    let (status, body) = eve.rpc("builds/list", &[("project_id", &id), ("page", "1")]).await;
    assert_ne!(status, 200, "{body}");
    let eve_api = app.api(&eve.token().await);
    let (status, body): (u16, Value) = eve_api.get(&format!("/api/v1/projects/{id}/builds")).await;
    assert_eq!(status, 404, "{body}");
}
