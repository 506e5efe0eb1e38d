//! Which IP addresses a media fetch may connect to: only globally routable unicast ones.
//! Every special-purpose block of the IANA IPv4 and IPv6 registries is refused, and IPv6 forms
//! that carry an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by that address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is not public, or `None` when it is.
pub fn non_public_reason(address: IpAddr) -> Option<&'static str> {
    match address {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

/// IPv4 special-purpose blocks (RFC 6890 and its updates): (network, prefix length, name);
/// the first match names the reason, so broadcast comes before the reserved 240/4 around it.
const V4_BLOCKS: [(u32, u32, &str); 16] = [
    (0xFFFF_FFFF, 32, "broadcast (255.255.255.255)"),
    (0x0000_0000, 8, "\"this network\" (0.0.0.0/8)"),
    (0x0A00_0000, 8, "private (10.0.0.0/8)"),
    (0x6440_0000, 10, "carrier-grade NAT (100.64.0.0/10)"),
    (0x7F00_0000, 8, "loopback (127.0.0.0/8)"),
    (0xA9FE_0000, 16, "link-local (169.254.0.0/16)"),
    (0xAC10_0000, 12, "private (172.16.0.0/12)"),
    (0xC000_0000, 24, "IETF protocol assignments (192.0.0.0/24)"),
    (0xC000_0200, 24, "documentation (192.0.2.0/24)"),
    (0xC058_6300, 24, "6to4 relay anycast (192.88.99.0/24)"),
    (0xC0A8_0000, 16, "private (192.168.0.0/16)"),
    (0xC612_0000, 15, "benchmarking (198.18.0.0/15)"),
    (0xC633_6400, 24, "documentation (198.51.100.0/24)"),
    (0xCB00_7100, 24, "documentation (203.0.113.0/24)"),
    (0xE000_0000, 4, "multicast (224.0.0.0/4)"),
    (0xF000_0000, 4, "reserved (240.0.0.0/4)"),
];

fn v4_reason(address: Ipv4Addr) -> Option<&'static str> {
    let bits = u32::from(address);
    V4_BLOCKS
        .iter()
        .find(|(network, prefix, _)| bits >> (32 - prefix) == network >> (32 - prefix))
        .map(|(_, _, name)| *name)
}

fn v6_reason(address: Ipv6Addr) -> Option<&'static str> {
    let bits = u128::from(address);
    let in_block = |network: u128, prefix: u32| bits >> (128 - prefix) == network >> (128 - prefix);
    let embedded_v4 = Ipv4Addr::from((bits & 0xFFFF_FFFF) as u32);
    if address.is_unspecified() {
        return Some("unspecified (::)");
    }
    if address.is_loopback() {
        return Some("loopback (::1)");
    }
    // Forms that carry an IPv4 address are as public as that address.
    let mapped = in_block(0xFFFF_0000_0000, 96); // ::ffff:a.b.c.d
    let nat64 = in_block(0x0064_FF9B << 96, 96); // 64:ff9b::a.b.c.d
    let compatible = in_block(0, 96); // ::a.b.c.d, deprecated: never public
    if mapped || nat64 {
        return v4_reason(embedded_v4);
    }
    if compatible {
        return v4_reason(embedded_v4).or(Some("IPv4-compatible IPv6 (::/96, deprecated)"));
    }
    if in_block(0x2002 << 112, 16) {
        // 6to4: the IPv4 address sits in bits 16..48.
        let v4 = Ipv4Addr::from(((bits >> 80) & 0xFFFF_FFFF) as u32);
        return v4_reason(v4).or(Some("6to4 (2002::/16)"));
    }
    const V6_BLOCKS: [(u128, u32, &str); 9] = [
        (
            0x0064_FF9B_0001 << 80,
            48,
            "local-use NAT64 (64:ff9b:1::/48)",
        ),
        (0x0100 << 112, 64, "discard-only (100::/64)"),
        (
            0x2001 << 112,
            23,
            "IETF protocol assignments incl. Teredo (2001::/23)",
        ),
        (0x2001_0DB8 << 96, 32, "documentation (2001:db8::/32)"),
        (0x3FFF << 112, 20, "documentation (3fff::/20)"),
        (0xFC00 << 112, 7, "unique local (fc00::/7)"),
        (0xFE80 << 112, 10, "link-local (fe80::/10)"),
        (0xFEC0 << 112, 10, "site-local (fec0::/10, deprecated)"),
        (0xFF00 << 112, 8, "multicast (ff00::/8)"),
    ];
    V6_BLOCKS
        .iter()
        .find(|(network, prefix, _)| in_block(*network, *prefix))
        .map(|(_, _, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(text: &str) -> Option<&'static str> {
        non_public_reason(text.parse().unwrap())
    }

    #[test]
    fn public_addresses_pass() {
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.0",
            "172.32.0.1",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert_eq!(reason(public), None, "{public}");
        }
    }

    #[test]
    fn every_special_block_is_refused_with_its_name() {
        for (address, expected) in [
            ("127.0.0.1", "loopback"),
            ("127.255.255.254", "loopback"),
            ("0.0.0.0", "this network"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("100.64.0.1", "carrier-grade NAT"),
            ("100.127.255.255", "carrier-grade NAT"),
            ("169.254.169.254", "link-local"),
            ("192.0.2.1", "documentation"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.9", "documentation"),
            ("198.18.0.1", "benchmarking"),
            ("224.0.0.1", "multicast"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.255", "broadcast"),
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.0.0.1", "private"),
            ("::ffff:169.254.169.254", "link-local"),
            ("::127.0.0.1", "loopback"),
            ("::8.8.8.8", "IPv4-compatible"),
            ("64:ff9b::7f00:1", "loopback"),
            ("2002:7f00:1::", "loopback"),
            ("2002:808:808::", "6to4"),
            ("2001::1", "Teredo"),
            ("2001:db8::1", "documentation"),
            ("fc00::1", "unique local"),
            ("fd12:3456::1", "unique local"),
            ("fe80::1", "link-local"),
            ("fec0::1", "site-local"),
            ("ff02::1", "multicast"),
            ("100::1", "discard"),
        ] {
            let found = reason(address).unwrap_or_else(|| panic!("{address} passed"));
            assert!(found.contains(expected), "{address}: {found}");
        }
    }
}
