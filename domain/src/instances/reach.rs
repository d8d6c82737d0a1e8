//! Verifying a custom domain means fetching a URL whose host a tenant chose,
//! from inside the platform: the classic server-side request forgery. So the
//! name is resolved once, every address it resolves to must be public (not
//! loopback, private, link-local — the cloud metadata service —, shared,
//! multicast or reserved) unless the operator allowed its network, and the
//! request goes to that checked address alone (no second lookup a rebinding
//! DNS server could answer differently), follows no redirect, waits at most
//! ten seconds and reads at most a kilobyte.
//!
//! Operators may pin names to addresses (`ODOOOPS_DOMAIN_RESOLVE`, for
//! split-horizon DNS and tests) and allow networks
//! (`ODOOOPS_DOMAIN_CHECK_ALLOW`, e.g. a load balancer on a private range).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// A network in CIDR notation (`10.0.0.0/8`, `fd00::/8`, or one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    bits: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let s = s.trim();
        let (addr, bits) = match s.split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (s, None),
        };
        let net: IpAddr = addr.parse().map_err(|_| format!("{s}: not an IP address or network"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            Some(b) => b.parse::<u8>().ok().filter(|b| *b <= max).ok_or(format!("{s}: a prefix of 0 to {max}"))?,
            None => max,
        };
        Ok(Cidr { net, bits })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, canonical(ip)) {
            (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), self.bits),
            (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), self.bits),
            _ => false,
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let (whole, rest) = (usize::from(bits / 8), bits % 8);
    a[..whole] == b[..whole] && (rest == 0 || (a[whole] ^ b[whole]) >> (8 - rest) == 0)
}

/// An IPv4 address written as IPv6 (`::ffff:a.b.c.d`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Why the console will not fetch from `ip` (none: a public address).
pub fn not_public(ip: IpAddr) -> Option<&'static str> {
    let in_v4 = |a: Ipv4Addr, net: [u8; 4], bits: u8| prefix_eq(&a.octets(), &net, bits);
    match canonical(ip) {
        IpAddr::V4(a) => {
            let table: &[([u8; 4], u8, &str)] = &[
                ([0, 0, 0, 0], 8, "an unspecified address"),
                ([127, 0, 0, 0], 8, "this machine (loopback)"),
                ([10, 0, 0, 0], 8, "a private network"),
                ([172, 16, 0, 0], 12, "a private network"),
                ([192, 168, 0, 0], 16, "a private network"),
                ([169, 254, 0, 0], 16, "link-local (the cloud metadata service lives there)"),
                ([100, 64, 0, 0], 10, "shared address space (carrier NAT)"),
                ([192, 0, 0, 0], 24, "reserved for protocols"),
                ([192, 0, 2, 0], 24, "reserved for documentation"),
                ([198, 51, 100, 0], 24, "reserved for documentation"),
                ([203, 0, 113, 0], 24, "reserved for documentation"),
                ([198, 18, 0, 0], 15, "reserved for benchmarks"),
                ([224, 0, 0, 0], 4, "multicast"),
                ([240, 0, 0, 0], 4, "reserved"),
            ];
            table.iter().find(|(net, bits, _)| in_v4(a, *net, *bits)).map(|(_, _, why)| *why)
        }
        IpAddr::V6(a) => {
            let o = a.octets();
            if a == Ipv6Addr::UNSPECIFIED {
                Some("an unspecified address")
            } else if a == Ipv6Addr::LOCALHOST {
                Some("this machine (loopback)")
            } else if o[0] & 0xfe == 0xfc {
                Some("a private network (unique local)")
            } else if o[0] == 0xfe && o[1] & 0xc0 == 0x80 {
                Some("link-local")
            } else if o[0] == 0xff {
                Some("multicast")
            } else if o[..4] == [0x20, 0x01, 0x0d, 0xb8] {
                Some("reserved for documentation")
            } else if o[..12] == [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0] || o[..12] == [0; 12] {
                Some("an IPv4 address in translation (refused: it could hide any of the above)")
            } else {
                None
            }
        }
    }
}

/// The operator's pins and allowed networks; shared, so an operator's
/// setting (or a test) applies to a running console.
#[derive(Clone, Default)]
pub struct Checks {
    pins: Arc<RwLock<HashMap<String, SocketAddr>>>,
    allowed: Arc<RwLock<Vec<Cidr>>>,
    /// Certificate authorities trusted besides the system's (`ODOOOPS_TRUST_CA`).
    roots: Arc<RwLock<Vec<reqwest::Certificate>>>,
}

impl Checks {
    /// Resolves `host` to `addr` (its port included) instead of asking DNS.
    pub fn pin(&self, host: &str, addr: SocketAddr) {
        self.pins.write().expect("pins").insert(host.to_ascii_lowercase(), addr);
    }

    /// Lets verification fetch from `net` although it is not public.
    pub fn allow(&self, net: Cidr) {
        self.allowed.write().expect("allowed").push(net);
    }

    /// Reads `host=ip:port` pins and networks, as the command line gives them.
    pub fn from_settings(pins: &[String], allowed: &[String]) -> Result<Checks, String> {
        let checks = Checks::default();
        for p in pins.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
            let (host, addr) = p.split_once('=').ok_or(format!("{p}: write host=ip:port"))?;
            let addr: SocketAddr = addr
                .parse()
                .or_else(|_| addr.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 80)))
                .map_err(|_| format!("{p}: not an address"))?;
            checks.pin(host.trim(), addr);
        }
        for a in allowed.iter().map(|a| a.trim()).filter(|a| !a.is_empty()) {
            checks.allow(Cidr::parse(a)?);
        }
        Ok(checks)
    }

    /// Trusts the certificate authorities of a PEM bundle for https fetches.
    pub fn trust_pem(&self, pem: &[u8]) -> Result<(), String> {
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| format!("not a PEM bundle: {e}"))?;
        if certs.is_empty() {
            return Err("no certificate in the PEM bundle".into());
        }
        self.roots.write().expect("roots").extend(certs);
        Ok(())
    }

    fn allows(&self, ip: IpAddr) -> bool {
        self.allowed.read().expect("allowed").iter().any(|n| n.contains(ip))
    }

    /// Where to connect for `host`, after every address it resolves to was checked.
    pub async fn resolve(&self, host: &str) -> Result<SocketAddr, String> {
        self.resolve_port(host, 80).await
    }

    /// As [`resolve`](Self::resolve), for `port` (a pin's own port wins).
    pub async fn resolve_port(&self, host: &str, port: u16) -> Result<SocketAddr, String> {
        let pinned = self.pins.read().expect("pins").get(host).copied();
        let addrs: Vec<SocketAddr> = match pinned {
            Some(a) => vec![a],
            None => match tokio::time::timeout(Duration::from_secs(5), tokio::net::lookup_host((host, port))).await {
                Ok(Ok(found)) => found.collect(),
                Ok(Err(_)) => return Err(format!("{host} does not resolve (no DNS record yet?)")),
                Err(_) => return Err(format!("resolving {host} took too long")),
            },
        };
        let first = *addrs.first().ok_or(format!("{host} resolves to no address"))?;
        // One refused address refuses the name: a rebinding server could send us to it next.
        for a in &addrs {
            if let Some(why) = not_public(a.ip()).filter(|_| !self.allows(a.ip())) {
                return Err(format!("{host} resolves to {}, {why}: the console fetches only public addresses", a.ip()));
            }
        }
        Ok(first)
    }

    /// GETs `http://host{path}` from the checked address: the body (at most
    /// 1 KiB, trimmed) of a 200, or why not, written for the person verifying.
    pub async fn fetch(&self, host: &str, path: &str) -> Result<String, String> {
        let addr = self.resolve(host).await?;
        let port = if addr.port() == 80 { String::new() } else { format!(":{}", addr.port()) };
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .resolve(host, addr)
            .build()
            .map_err(|e| format!("the console could not make a client: {e}"))?;
        let url = format!("http://{host}{port}{path}");
        let mut resp =
            client.get(&url).send().await.map_err(|e| format!("{url} did not answer ({})", without_url(&e)))?;
        let status = resp.status();
        if !status.is_success() {
            let redirect = if status.is_redirection() { " (redirects are not followed)" } else { "" };
            return Err(format!("{url} answered {status}{redirect}, not the token"));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| format!("reading {url}: {}", without_url(&e)))? {
            body.extend_from_slice(&chunk);
            if body.len() > 1024 {
                return Err(format!("{url} answered more than a token"));
            }
        }
        Ok(String::from_utf8_lossy(&body).trim().to_owned())
    }

    /// GETs an `https://` URL on a public host (checked as for [`fetch`](Self::fetch)):
    /// the body of a 200, at most `max` bytes, or why not. Certificates are verified
    /// against the system's authorities and the operator's (`ODOOOPS_TRUST_CA`).
    pub async fn fetch_https(&self, url: &str, max: usize) -> Result<Vec<u8>, String> {
        let client = self.https_client(url).await?;
        let mut resp =
            client.get(url).send().await.map_err(|e| format!("{url} did not answer ({})", without_url(&e)))?;
        let status = resp.status();
        if !status.is_success() {
            let redirect = if status.is_redirection() { " (redirects are not followed)" } else { "" };
            return Err(format!("{url} answered {status}{redirect}"));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| format!("reading {url}: {}", without_url(&e)))? {
            body.extend_from_slice(&chunk);
            if body.len() > max {
                return Err(format!("{url} answered more than {} KiB", max / 1024));
            }
        }
        Ok(body)
    }

    /// POSTs `body` to an `https://` URL on a public host (checked as for
    /// [`fetch_https`](Self::fetch_https)) and answers the receiver's status
    /// (whatever it is: the caller decides), or why nothing was sent or heard.
    pub async fn post_https(&self, url: &str, headers: &[(&str, String)], body: Vec<u8>) -> Result<u16, String> {
        let client = self.https_client(url).await?;
        let mut req = client.post(url).header("content-type", "application/json").body(body);
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        let resp = req.send().await.map_err(|e| format!("{url} did not answer ({})", without_url(&e)))?;
        Ok(resp.status().as_u16())
    }

    /// A client that connects to `url`'s host at its checked address only,
    /// verifies certificates, follows no redirect and waits at most ten seconds.
    async fn https_client(&self, url: &str) -> Result<reqwest::Client, String> {
        // Parsed once, the way the client reads it: the host checked is the host connected to.
        let parsed = reqwest::Url::parse(url).map_err(|_| format!("{url} is not a URL"))?;
        if parsed.scheme() != "https" || !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(format!("{url} is not an https:// URL without credentials"));
        }
        let host = parsed.domain().ok_or(format!("{url} names an address, not a host name"))?.to_ascii_lowercase();
        let port = parsed.port_or_known_default().unwrap_or(443);
        let addr = self.resolve_port(&host, port).await?;
        let mut builder = reqwest::Client::builder()
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .resolve(&host, addr);
        for root in self.roots.read().expect("roots").iter() {
            builder = builder.add_root_certificate(root.clone());
        }
        builder.build().map_err(|e| format!("the console could not make a client: {e}"))
    }
}

fn without_url(e: &reqwest::Error) -> String {
    let e = std::error::Error::source(e).map_or_else(|| e.to_string(), |s| s.to_string());
    e.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_fetched_from() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.17.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:169.254.169.254",
            "::ffff:127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "::a9fe:a9fe",
        ] {
            assert!(not_public(ip.parse().unwrap()).is_some(), "{ip} must be refused");
        }
        for ip in ["93.184.215.14", "1.1.1.1", "172.32.0.1", "2606:4700::1111"] {
            assert_eq!(not_public(ip.parse().unwrap()), None, "{ip} is public");
        }
    }

    #[test]
    fn networks_contain_their_addresses_only() {
        let n = Cidr::parse("10.20.0.0/16").unwrap();
        assert!(n.contains("10.20.255.1".parse().unwrap()));
        assert!(!n.contains("10.21.0.1".parse().unwrap()));
        assert!(n.contains("::ffff:10.20.0.9".parse().unwrap()), "a mapped address is its IPv4 one");
        let one = Cidr::parse("127.0.0.1").unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()) && !one.contains("127.0.0.2".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_err() && Cidr::parse("nope").is_err());
        assert!(Cidr::parse("fd00::/8").unwrap().contains("fdff::1".parse().unwrap()));
    }

    #[tokio::test]
    async fn a_name_is_refused_when_any_of_its_addresses_is_not_public() {
        let checks = Checks::from_settings(&["meta.example.com=169.254.169.254".into()], &[]).unwrap();
        let e = checks.resolve("meta.example.com").await.unwrap_err();
        assert!(e.contains("link-local"), "{e}");
        let local =
            Checks::from_settings(&["erp.example.com=127.0.0.1:8080".into()], &["127.0.0.1/32".into()]).unwrap();
        assert_eq!(local.resolve("erp.example.com").await.unwrap(), "127.0.0.1:8080".parse().unwrap());
        // `localhost` resolves through the system to loopback: refused.
        assert!(Checks::default().resolve("localhost").await.unwrap_err().contains("loopback"));
    }
}
