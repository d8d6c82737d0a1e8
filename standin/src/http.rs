//! Port 8069: `/web/health` (Odoo 15+ semantics), `/web/login` (the form, and
//! signing in against `res_users` as Odoo does), the signed-in home `/odoo`,
//! and a redirect from `/`. A thread per connection is plenty for a preview.

use crate::auth::{self, Sessions};
use crate::{log, Config};
use postgres::Client;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// Which of Odoo's ports a connection came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Port {
    /// 8069; with `workers`, Odoo's prefork server, which has no bus.
    Http { workers: bool },
    /// 8072, the gevent port of Odoo with workers: its bus only.
    Bus,
}

pub fn serve(c: &Config, client: Client) -> i32 {
    let client = Arc::new(Mutex::new(client));
    let db = Arc::new(c.database.clone().unwrap_or_default());
    let sessions = Arc::new(Sessions::default());
    if c.workers > 0 {
        let bus = match TcpListener::bind(("0.0.0.0", c.gevent_port)) {
            Ok(l) => l,
            Err(e) => {
                log::critical(None, "odoo.service.server", &format!("cannot listen on port {}: {e}", c.gevent_port));
                return 1;
            }
        };
        log::info(
            c.database.as_deref(),
            "odoo.service.server",
            &format!("Evented Service (longpolling) running on 0.0.0.0:{}", c.gevent_port),
        );
        let (client, db, sessions) = (client.clone(), db.clone(), sessions.clone());
        std::thread::spawn(move || {
            for stream in bus.incoming().flatten() {
                let (client, db, sessions) = (client.clone(), db.clone(), sessions.clone());
                std::thread::spawn(move || handle(stream, &client, &db, &sessions, Port::Bus));
            }
        });
    }
    let listener = match TcpListener::bind(("0.0.0.0", c.http_port)) {
        Ok(l) => l,
        Err(e) => {
            log::critical(None, "odoo.service.server", &format!("cannot listen on port {}: {e}", c.http_port));
            return 1;
        }
    };
    log::info(
        c.database.as_deref(),
        "odoo.service.server",
        &format!("HTTP service (werkzeug) running on 0.0.0.0:{}", c.http_port),
    );
    let port = Port::Http { workers: c.workers > 0 };
    for stream in listener.incoming().flatten() {
        let (client, db, sessions) = (client.clone(), db.clone(), sessions.clone());
        std::thread::spawn(move || handle(stream, &client, &db, &sessions, port));
    }
    0
}

/// The stored password of an active user.
fn stored_password(client: &Mutex<Client>, login: &str) -> Option<String> {
    let mut c = client.lock().ok()?;
    let row = c.query_opt("SELECT password FROM res_users WHERE login = $1 AND active", &[&login]).ok()??;
    row.get::<_, Option<String>>(0)
}

fn handle(mut stream: TcpStream, client: &Mutex<Client>, db: &str, sessions: &Sessions, port: Port) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let (mut length, mut cookie, mut ws_key) = (0usize, String::new(), None::<String>);
    loop {
        let mut h = String::new();
        match reader.read_line(&mut h) {
            Ok(0) | Err(_) => break,
            Ok(_) if h == "\r\n" || h == "\n" => break,
            Ok(_) => {
                let (name, value) = h.split_once(':').unwrap_or((&h, ""));
                match name.trim().to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap_or(0).min(64 * 1024),
                    "cookie" => cookie = value.trim().to_owned(),
                    "sec-websocket-key" => ws_key = Some(value.trim().to_owned()),
                    _ => {}
                }
            }
        }
    }
    let websocket = request_line.starts_with("GET /websocket");
    match (&ws_key, websocket, port) {
        (Some(key), true, Port::Bus | Port::Http { workers: false }) => {
            log::info(Some(db), "werkzeug", "\"GET /websocket HTTP/1.1\" 101");
            crate::websocket::serve(stream, reader, key);
            return;
        }
        (_, true, Port::Http { workers: true }) => {
            // As Odoo: with workers the bus is on the evented port only.
            let body = "Couldn't bind the websocket. Is the connection opened on the evented port (8072)?";
            log::warning(Some(db), "odoo.http", body);
            let _ = write!(
                stream,
                "HTTP/1.1 400 BAD REQUEST\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            return;
        }
        (_, false, Port::Bus) => {
            let _ = write!(stream, "HTTP/1.1 404 NOT FOUND\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            return;
        }
        _ => {}
    }
    let mut body = vec![0u8; length];
    if std::io::Read::read_exact(&mut reader, &mut body).is_err() {
        body.clear();
    }
    let body = String::from_utf8_lossy(&body).into_owned();
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let (status, ctype, extra, body) = match (method, path) {
        ("GET", "/web/health") => {
            if query.contains("db_server_status=1") {
                let up = client.lock().map(|mut c| c.simple_query("SELECT 1").is_ok()).unwrap_or(false);
                let status = if up { "pass" } else { "fail" };
                let code = if up { "200 OK" } else { "500 INTERNAL SERVER ERROR" };
                (
                    code,
                    "application/json",
                    String::from("Cache-Control: no-store\r\n"),
                    format!("{{\"status\": \"{status}\", \"db_server_status\": {up}}}"),
                )
            } else {
                (
                    "200 OK",
                    "application/json",
                    String::from("Cache-Control: no-store\r\n"),
                    "{\"status\": \"pass\"}".to_owned(),
                )
            }
        }
        ("GET", "/web/login") => ("200 OK", "text/html; charset=utf-8", String::new(), login_page(db, None)),
        ("POST", "/web/login") => {
            let login = auth::form_field(&body, "login").unwrap_or_default();
            let password = auth::form_field(&body, "password").unwrap_or_default();
            if let Some(session) = sign_in(client, db, sessions, &login, &password) {
                let extra =
                    format!("Location: /odoo\r\nSet-Cookie: session_id={session}; HttpOnly; Path=/; SameSite=Lax\r\n");
                ("303 SEE OTHER", "text/plain", extra, String::new())
            } else {
                ("200 OK", "text/html; charset=utf-8", String::new(), login_page(db, Some("Wrong login/password")))
            }
        }
        // Odoo's JSON-RPC sign-in (what scripts and OdooOps's Connect use): a session cookie and the user's context.
        ("POST", "/web/session/authenticate") => {
            let login = auth::json_field(&body, "login").unwrap_or_default();
            let password = auth::json_field(&body, "password").unwrap_or_default();
            if let Some(session) = sign_in(client, db, sessions, &login, &password) {
                let extra = format!("Set-Cookie: session_id={session}; HttpOnly; Path=/; SameSite=Lax\r\n");
                let body = format!(
                    "{{\"jsonrpc\": \"2.0\", \"id\": null, \"result\": {{\"db\": \"{}\", \"username\": \"{}\"}}}}",
                    clean(db),
                    clean(&login)
                );
                ("200 OK", "application/json", extra, body)
            } else {
                let body = "{\"jsonrpc\": \"2.0\", \"id\": null, \"error\": {\"code\": 200, \"message\": \"Odoo Server Error\", \"data\": {\"name\": \"odoo.exceptions.AccessDenied\", \"message\": \"Access Denied\"}}}";
                ("200 OK", "application/json", String::new(), body.to_owned())
            }
        }
        ("GET", "/") | ("GET", "/web") | ("GET", "/odoo") => match sessions.who(&cookie) {
            Some(login) => (
                "200 OK",
                "text/html; charset=utf-8",
                String::from("Cache-Control: no-store\r\n"),
                home_page(db, &login),
            ),
            None => ("303 SEE OTHER", "text/plain", String::from("Location: /web/login\r\n"), String::new()),
        },
        _ => ("404 NOT FOUND", "text/plain", String::new(), "Not Found".to_owned()),
    };
    log::info(Some(db), "werkzeug", &format!("\"{method} {target} HTTP/1.1\" {}", &status[..3]));
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
}

/// Checks a login against `res_users` as Odoo does, logs the attempt as Odoo does, and opens a
/// session when it is good.
fn sign_in(client: &Mutex<Client>, db: &str, sessions: &Sessions, login: &str, password: &str) -> Option<String> {
    let good = !login.is_empty() && stored_password(client, login).is_some_and(|s| auth::verify(password, &s));
    log::info(
        Some(db),
        "odoo.addons.base.models.res_users",
        &format!("Login {} for db:{db} login:{login}", if good { "successful" } else { "failed" }),
    );
    good.then(|| sessions.open(login))
}

fn clean(s: &str) -> String {
    s.replace(['<', '>', '&', '"'], "")
}

fn home_page(db: &str, login: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><title>Odoo</title></head><body class=\"o_web_client\">\
         <p>Odoo (OdooOps stand-in) &middot; database <b id=\"db\">{}</b> &middot; signed in as \
         <b id=\"user\">{}</b></p></body></html>",
        clean(db),
        clean(login)
    )
}

fn login_page(db: &str, error: Option<&str>) -> String {
    let db = clean(db);
    let error = error.map(|e| format!("<p class=\"alert alert-danger\" role=\"alert\">{e}</p>")).unwrap_or_default();
    // Which container answered (Docker names its host after the container): tests tell builds apart by it.
    let host = clean(std::fs::read_to_string("/etc/hostname").unwrap_or_default().trim());
    format!(
        "<!DOCTYPE html><html><head><title>Login | Odoo</title></head><body class=\"o_web_client\">\
         <form class=\"oe_login_form\" method=\"post\" action=\"/web/login\">{error}\
         <p>Odoo (OdooOps stand-in) &middot; database <b id=\"db\">{db}</b> on <span id=\"host\">{host}</span></p>\
         <label>Email <input name=\"login\"/></label> <label>Password <input name=\"password\" type=\"password\"/></label>\
         <button type=\"submit\">Log in</button></form></body></html>"
    )
}
