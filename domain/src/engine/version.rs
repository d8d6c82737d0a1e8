//! Which Docker Engine API version to speak: the engine's own, asked once at
//! start-up over the unversioned `GET /version`, when it is older than the
//! client's default (engines refuse versions newer than theirs).

/// The engine's own API version, from the unversioned `GET /version` (a
/// blocking exchange of a few hundred bytes, once at start-up).
pub(super) fn engine_api_version(host: &str) -> Option<bollard::ClientVersion> {
    use std::io::{Read, Write};
    let timeout = Some(std::time::Duration::from_secs(3));
    let request = b"GET /version HTTP/1.0\r\nHost: docker\r\n\r\n";
    let mut body = Vec::new();
    if let Some(path) = host.strip_prefix("unix://") {
        let mut s = std::os::unix::net::UnixStream::connect(path).ok()?;
        s.set_read_timeout(timeout).ok()?;
        s.write_all(request).ok()?;
        s.read_to_end(&mut body).ok()?;
    } else {
        let addr = host.trim_start_matches("tcp://").trim_start_matches("http://").trim_end_matches('/');
        let mut s = std::net::TcpStream::connect(addr).ok()?;
        s.set_read_timeout(timeout).ok()?;
        s.write_all(request).ok()?;
        s.read_to_end(&mut body).ok()?;
    }
    let text = String::from_utf8_lossy(&body);
    let json = text.split_once("\r\n\r\n")?.1;
    parse_api_version(serde_json::from_str::<serde_json::Value>(json).ok()?["ApiVersion"].as_str()?)
}

fn parse_api_version(v: &str) -> Option<bollard::ClientVersion> {
    let (major, minor) = v.split_once('.')?;
    Some(bollard::ClientVersion { major_version: major.parse().ok()?, minor_version: minor.parse().ok()? })
}

#[cfg(test)]
mod tests {
    #[test]
    fn api_versions_parse() {
        let v = super::parse_api_version("1.41").unwrap();
        assert_eq!((v.major_version, v.minor_version), (1, 41));
        assert!(super::parse_api_version("x").is_none());
    }
}
