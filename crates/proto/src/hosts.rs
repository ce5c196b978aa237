//! Which host names mean "this machine": the rule behind loopback redirect URIs (RFC 8252
//! §7.3) on the server, and behind `http://` profile URLs and the local helpers' `Host` check
//! on the client side. Pure.

/// The host of an authority (`host`, `host:port`, `[v6]`, `[v6]:port`), without the port.
pub fn host_of_authority(authority: &str) -> &str {
    let authority = authority.trim();
    match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => match authority.rsplit_once(':') {
            Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
            _ => authority,
        },
    }
}

/// `localhost` (any case) or a loopback address (`127.0.0.0/8`, `::1`, bracketed or not).
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_authorities_and_which_are_this_machine() {
        assert_eq!(host_of_authority("127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(host_of_authority("[::1]:8080"), "::1");
        assert_eq!(host_of_authority("example.com"), "example.com");
        for host in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "[::1]",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in ["localhost.evil.example", "10.0.0.1", "example.com", ""] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
