//! The one loopback rule (CORS, the control API's guard, webhook targets) and the test of
//! whether an address is the sandbox's own listener, which no webhook may reach.

use std::net::{IpAddr, SocketAddr};

/// A host (no port, no brackets) that names this machine: `localhost`, `*.localhost`, an
/// IPv4 address in 127.0.0.0/8, or `::1`. Names and addresses may end with one dot.
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    if let Ok(ip) = h.parse::<IpAddr>() {
        return is_loopback_ip(ip);
    }
    h == "localhost" || (h.ends_with(".localhost") && h.len() > ".localhost".len() && !h.contains(".."))
}

pub fn is_loopback_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback(),
    }
}

/// The host of `host[:port]` or `[v6][:port]` (a `Host` header, an origin's authority).
pub fn authority_host(a: &str) -> Option<&str> {
    let port_ok = |p: &str| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = a.strip_prefix('[') {
        let (h, tail) = rest.split_once(']')?;
        (tail.is_empty() || tail.strip_prefix(':').is_some_and(port_ok)).then_some(h)
    } else {
        let (h, port) = match a.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (a, None),
        };
        (!h.is_empty() && port.is_none_or(port_ok) && !h.contains(['/', '@', '?', '#'])).then_some(h)
    }
}

/// A `Host` header naming this machine.
pub fn is_loopback_authority(a: &str) -> bool {
    authority_host(a).is_some_and(is_loopback_host)
}

/// An `Origin` of a page served from this machine (`http(s)://` + a loopback host).
pub fn is_loopback_origin(origin: &str) -> bool {
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(is_loopback_authority)
}

/// Whether a connection to `ip:port` reaches the listener at `listen`: the same port on a
/// loopback or unspecified address (0.0.0.0 connects to this machine), on the very address
/// it listens on, or, when it listens on every interface, on any address of this machine
/// (one a socket can be bound to).
pub fn reaches(listen: SocketAddr, ip: IpAddr, port: u16) -> bool {
    if port != listen.port() {
        return false;
    }
    let ip = ip.to_canonical();
    is_loopback_ip(ip)
        || ip.is_unspecified()
        || ip == listen.ip().to_canonical()
        || (listen.ip().is_unspecified() && std::net::UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok())
}

/// Whether `url` names the listener at `listen` before any name is resolved: an address
/// that `reaches` it, or a loopback name (any case, trailing dots) on its port.
pub fn names_listener(listen: SocketAddr, url: &reqwest::Url) -> bool {
    let Some(port) = url.port_or_known_default() else { return false };
    match url.host() {
        Some(url::Host::Ipv4(v4)) => reaches(listen, IpAddr::V4(v4), port),
        Some(url::Host::Ipv6(v6)) => reaches(listen, IpAddr::V6(v6), port),
        Some(url::Host::Domain(d)) => port == listen.port() && is_loopback_host(d.trim_end_matches('.')),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loopback_rule_is_exact() {
        for yes in [
            "localhost",
            "LOCALHOST",
            "localhost.",
            "app.localhost",
            "127.0.0.1",
            "127.9.8.7",
            "::1",
            "127.0.0.1.",
        ] {
            assert!(is_loopback_host(yes), "{yes}");
        }
        for no in [
            "127.evil.example",
            "localhost.evil.com",
            "evil-localhost",
            ".localhost",
            "128.0.0.1",
            "0.0.0.0",
            "::",
            "",
            "null",
            "localhost..",
        ] {
            assert!(!is_loopback_host(no), "{no}");
        }
        for yes in ["http://localhost:5173", "https://127.0.0.1", "http://[::1]:8080", "http://a.localhost"] {
            assert!(is_loopback_origin(yes), "{yes}");
        }
        for no in [
            "null",
            "http://127.evil.example",
            "https://localhost.evil.com",
            "http://localhost@evil.com",
            "file://",
            "http://[::1]x",
            "http://localhost:99999x",
        ] {
            assert!(!is_loopback_origin(no), "{no}");
        }
    }

    #[test]
    fn every_spelling_of_the_listener() {
        let listen: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        for u in [
            "http://127.0.0.1:4000/x",
            "http://127.0.0.2:4000/x",
            "http://localhost:4000/x",
            "http://LocalHost.:4000/x",
            "http://localhost..:4000/x",
            "http://[::1]:4000/x",
            "http://0.0.0.0:4000/x",
            "http://127.0.0.1.:4000/x",
            "http://2130706433:4000/x",
            "http://0x7f.1:4000/x",
            "http://[::ffff:127.0.0.1]:4000/x",
            "http://a.localhost:4000/x",
        ] {
            assert!(names_listener(listen, &reqwest::Url::parse(u).unwrap()), "{u}");
        }
        for u in ["http://127.0.0.1:4001/x", "http://localhost/x", "http://example.com:4000/x"] {
            assert!(!names_listener(listen, &reqwest::Url::parse(u).unwrap()), "{u}");
        }
        let everywhere: SocketAddr = "0.0.0.0:4000".parse().unwrap();
        assert!(reaches(everywhere, "127.0.0.1".parse().unwrap(), 4000));
        assert!(!reaches(everywhere, "192.0.2.1".parse().unwrap(), 4000), "not an address of this machine");
    }
}
