//! Port 8069: `/web/health` (Odoo 15+ semantics), `/web/login`, and a redirect
//! from `/`. A thread per connection is plenty for a preview.

use crate::{log, Config};
use postgres::Client;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

pub fn serve(c: &Config, client: Client) -> i32 {
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
    let client = Arc::new(Mutex::new(client));
    let db = Arc::new(c.database.clone().unwrap_or_default());
    for stream in listener.incoming().flatten() {
        let client = client.clone();
        let db = db.clone();
        std::thread::spawn(move || handle(stream, &client, &db));
    }
    0
}

fn handle(mut stream: TcpStream, client: &Mutex<Client>, db: &str) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut h = String::new();
        match reader.read_line(&mut h) {
            Ok(0) | Err(_) => break,
            Ok(_) if h == "\r\n" || h == "\n" => break,
            Ok(_) => {}
        }
    }
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
                    "Cache-Control: no-store\r\n",
                    format!("{{\"status\": \"{status}\", \"db_server_status\": {up}}}"),
                )
            } else {
                ("200 OK", "application/json", "Cache-Control: no-store\r\n", "{\"status\": \"pass\"}".to_owned())
            }
        }
        ("GET", "/web/login") => ("200 OK", "text/html; charset=utf-8", "", login_page(db)),
        ("GET", "/") | ("GET", "/web") | ("GET", "/odoo") => {
            ("303 SEE OTHER", "text/plain", "Location: /web/login\r\n", String::new())
        }
        _ => ("404 NOT FOUND", "text/plain", "", "Not Found".to_owned()),
    };
    log::info(Some(db), "werkzeug", &format!("\"{method} {target} HTTP/1.1\" {}", &status[..3]));
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
}

fn login_page(db: &str) -> String {
    let db = db.replace(['<', '>', '&', '"'], "");
    format!(
        "<!DOCTYPE html><html><head><title>Login | Odoo</title></head><body class=\"o_web_client\">\
         <form class=\"oe_login_form\" method=\"post\" action=\"/web/login\">\
         <p>Odoo (OdooOps stand-in) &middot; database <b id=\"db\">{db}</b></p>\
         <label>Email <input name=\"login\"/></label> <label>Password <input name=\"password\" type=\"password\"/></label>\
         <button type=\"submit\">Log in</button></form></body></html>"
    )
}
