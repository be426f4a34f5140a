//! IP address management: CIDR and address arithmetic for IPv4 and IPv6 (addresses as
//! `u128`), allocation pools (validated, inside the subnet, non-overlapping), default pools
//! around the gateway as Neutron generates them, and the in-order choice of the next free
//! address that [`crate::db::ports`] runs under the subnet's row lock.

use crate::error::{NeutronError, NeutronResult};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An IP network: its version, first address and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub version: u8,
    pub network: u128,
    pub prefix: u8,
}

/// An inclusive address range (an allocation pool).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Range {
    pub first: u128,
    pub last: u128,
}

impl Range {
    pub fn contains(&self, ip: u128) -> bool {
        self.first <= ip && ip <= self.last
    }
    pub fn size(&self) -> u128 {
        self.last - self.first + 1
    }
}

fn bits(version: u8) -> u8 {
    if version == 4 {
        32
    } else {
        128
    }
}

/// Parses an address of either version: (version, value).
pub fn parse_ip(text: &str) -> Option<(u8, u128)> {
    match text.trim().parse::<IpAddr>().ok()? {
        IpAddr::V4(a) => Some((4, u128::from(u32::from(a)))),
        IpAddr::V6(a) => Some((6, u128::from(a))),
    }
}

/// An address as text, IPv6 compressed.
pub fn format_ip(version: u8, value: u128) -> String {
    if version == 4 {
        Ipv4Addr::from(u32::try_from(value).unwrap_or(u32::MAX)).to_string()
    } else {
        Ipv6Addr::from(value).to_string()
    }
}

/// The canonical text of an address (IPv6 compressed), or None when it is not one.
pub fn canonical_ip(text: &str) -> Option<String> {
    parse_ip(text).map(|(v, a)| format_ip(v, a))
}

impl Cidr {
    /// Parses `addr/prefix` (or a bare address, a host route). Host bits must be zero unless
    /// `allow_host_bits`; the error names the network that was probably meant.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let (version, value) =
            parse_ip(addr).ok_or_else(|| format!("'{text}' is not a valid IP subnet"))?;
        let max = bits(version);
        let prefix: u8 = match prefix {
            Some(p) => p
                .parse()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("'{text}' is not a valid IP subnet"))?,
            None => max,
        };
        let cidr = Cidr {
            version,
            network: value & mask(version, prefix),
            prefix,
        };
        if cidr.network != value {
            return Err(format!(
                "'{text}' isn't a recognized IP subnet cidr, '{cidr}' is recommended"
            ));
        }
        Ok(cidr)
    }

    pub fn first(&self) -> u128 {
        self.network
    }
    pub fn last(&self) -> u128 {
        self.network | !mask(self.version, self.prefix) & max_value(self.version)
    }
    pub fn contains(&self, ip: u128) -> bool {
        self.first() <= ip && ip <= self.last()
    }
    pub fn overlaps(&self, other: &Cidr) -> bool {
        self.version == other.version
            && self.first() <= other.last()
            && other.first() <= self.last()
    }
    pub fn format(&self, ip: u128) -> String {
        format_ip(self.version, ip)
    }

    /// Neutron's default pools: the whole subnet but the network address (IPv4 up to /30:
    /// and the broadcast address; IPv6: the subnet-router anycast address) and the gateway.
    pub fn default_pools(&self, gateway: Option<u128>) -> Vec<Range> {
        let (first, last) = (self.first(), self.last());
        if first == last {
            return vec![Range { first, last }];
        }
        let (lo, hi) = if self.version == 4 {
            if self.prefix <= 30 {
                (first + 1, last - 1)
            } else {
                (first, last)
            }
        } else {
            (first + 1, last)
        };
        let full = Range {
            first: lo,
            last: hi,
        };
        match gateway.filter(|g| full.contains(*g)) {
            None => vec![full],
            Some(g) => {
                let mut out = Vec::new();
                if g > lo {
                    out.push(Range {
                        first: lo,
                        last: g - 1,
                    });
                }
                if g < hi {
                    out.push(Range {
                        first: g + 1,
                        last: hi,
                    });
                }
                out
            }
        }
    }

    /// Whether `ip` may be given to a port: inside the subnet and, for IPv4, neither the
    /// network nor the broadcast address (Neutron's check_subnet_ip).
    pub fn usable(&self, ip: u128) -> bool {
        if !self.contains(ip) {
            return false;
        }
        if self.version == 4 && self.prefix <= 30 {
            return ip != self.first() && ip != self.last();
        }
        true
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}",
            format_ip(self.version, self.network),
            self.prefix
        )
    }
}

fn max_value(version: u8) -> u128 {
    if version == 4 {
        u128::from(u32::MAX)
    } else {
        u128::MAX
    }
}

fn mask(version: u8, prefix: u8) -> u128 {
    let b = bits(version);
    if prefix == 0 {
        return 0;
    }
    let host = u32::from(b - prefix);
    let m = if host >= 128 { 0 } else { u128::MAX << host };
    m & max_value(version)
}

/// Validates requested pools (`{"start", "end"}` pairs) against the subnet as Neutron does:
/// well-formed and of the subnet's version (400 InvalidAllocationPool), inside the subnet
/// (400 OutOfBoundsAllocationPool), and not overlapping each other (409
/// OverlappingAllocationPools). Returns them sorted.
pub fn validate_pools(cidr: &Cidr, pools: &[(String, String)]) -> NeutronResult<Vec<Range>> {
    let mut ranges = Vec::new();
    for (start, end) in pools {
        let shown = format!("{{'start': '{start}', 'end': '{end}'}}");
        let invalid = || {
            NeutronError::bad(
                "InvalidAllocationPool",
                format!("The allocation pool {shown} is not valid."),
            )
        };
        let (v1, a) = parse_ip(start).ok_or_else(invalid)?;
        let (v2, b) = parse_ip(end).ok_or_else(invalid)?;
        if v1 != cidr.version || v2 != cidr.version || a > b {
            return Err(invalid());
        }
        if a < cidr.first() || b > cidr.last() {
            return Err(NeutronError::bad(
                "OutOfBoundsAllocationPool",
                format!("The allocation pool {shown} spans beyond the subnet cidr {cidr}."),
            ));
        }
        ranges.push(Range { first: a, last: b });
    }
    ranges.sort();
    for pair in ranges.windows(2) {
        if pair[1].first <= pair[0].last {
            let show = |r: &Range| format!("{}-{}", cidr.format(r.first), cidr.format(r.last));
            return Err(NeutronError::overlapping_pools(
                &show(&pair[0]),
                &show(&pair[1]),
                &cidr.to_string(),
            ));
        }
    }
    Ok(ranges)
}

/// The first address of `pools` (in order) that is not in `used` (sorted ascending), or None
/// when every pool is full. Costs O(|used|), whatever the pools' size, so IPv6 /64s are fine.
pub fn first_free(pools: &[Range], used: &[u128]) -> Option<u128> {
    for pool in pools {
        let mut candidate = pool.first;
        let start = used.partition_point(|u| *u < pool.first);
        for u in &used[start..] {
            if *u > pool.last || *u > candidate {
                break;
            }
            if *u == candidate {
                if candidate == pool.last {
                    break;
                }
                candidate += 1;
            }
        }
        if pool.contains(candidate) && used.binary_search(&candidate).is_err() {
            return Some(candidate);
        }
    }
    None
}

/// The free parts of `pools` once `used` (sorted ascending, duplicates allowed) are taken
/// out, in address order: what the availability ranges of a subnet hold
/// ([`crate::db::ip_ranges`]). Costs O(|pools| + |used|).
pub fn free_ranges(pools: &[Range], used: &[u128]) -> Vec<Range> {
    let mut sorted: Vec<Range> = pools.to_vec();
    sorted.sort();
    let mut out = Vec::new();
    for pool in sorted {
        let start = used.partition_point(|u| *u < pool.first);
        // The next address of the pool not accounted for yet; None once past its end.
        let mut next = Some(pool.first);
        for u in used[start..].iter().take_while(|u| **u <= pool.last) {
            let Some(n) = next else { break };
            if *u > n {
                out.push(Range {
                    first: n,
                    last: *u - 1,
                });
            }
            if *u >= n {
                next = u.checked_add(1).filter(|a| *a <= pool.last);
            }
        }
        if let Some(n) = next {
            out.push(Range {
                first: n,
                last: pool.last,
            });
        }
    }
    out
}

/// An address as text that sorts as the address does, whatever the database's collation:
/// 39 decimal digits, zero-padded (u128::MAX has 39). The availability ranges are kept in it.
pub fn sort_key(ip: u128) -> String {
    format!("{ip:039}")
}

/// The address a [`sort_key`] stands for.
pub fn from_sort_key(key: &str) -> Option<u128> {
    key.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> u128 {
        parse_ip(s).expect("ip").1
    }

    #[test]
    fn cidrs() {
        let c = Cidr::parse("10.0.0.0/24").expect("cidr");
        assert_eq!((c.first(), c.last()), (ip("10.0.0.0"), ip("10.0.0.255")));
        assert!(Cidr::parse("10.0.0.1/24")
            .err()
            .unwrap_or_default()
            .contains("'10.0.0.0/24' is recommended"));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("nope/24").is_err());
        let v6 = Cidr::parse("2001:db8::/64").expect("v6");
        assert_eq!(v6.format(v6.last()), "2001:db8::ffff:ffff:ffff:ffff");
        assert!(c.overlaps(&Cidr::parse("10.0.0.128/25").expect("cidr")));
        assert!(!c.overlaps(&Cidr::parse("10.0.1.0/24").expect("cidr")));
        assert_eq!(
            Cidr::parse("0.0.0.0/0").expect("any").last(),
            ip("255.255.255.255")
        );
        assert_eq!(Cidr::parse("::/0").expect("any").last(), u128::MAX);
    }

    #[test]
    fn default_pools_skip_network_broadcast_and_gateway() {
        let c = Cidr::parse("10.0.0.0/24").expect("cidr");
        assert_eq!(
            c.default_pools(Some(ip("10.0.0.1"))),
            vec![Range {
                first: ip("10.0.0.2"),
                last: ip("10.0.0.254")
            }]
        );
        assert_eq!(c.default_pools(Some(ip("10.0.0.100"))).len(), 2);
        assert_eq!(
            c.default_pools(None),
            vec![Range {
                first: ip("10.0.0.1"),
                last: ip("10.0.0.254")
            }]
        );
        let v6 = Cidr::parse("2001:db8::/64").expect("v6");
        assert_eq!(
            v6.default_pools(Some(ip("2001:db8::1")))[0].first,
            ip("2001:db8::2")
        );
        assert_eq!(v6.default_pools(Some(ip("2001:db8::1")))[0].last, v6.last());
    }

    #[test]
    fn pools_are_validated() {
        let c = Cidr::parse("10.0.0.0/24").expect("cidr");
        let p = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert!(validate_pools(
            &c,
            &[p("10.0.0.2", "10.0.0.9"), p("10.0.0.10", "10.0.0.20")]
        )
        .is_ok());
        assert_eq!(
            validate_pools(
                &c,
                &[p("10.0.0.2", "10.0.0.10"), p("10.0.0.10", "10.0.0.20")]
            )
            .err()
            .map(|e| e.kind),
            Some("OverlappingAllocationPools")
        );
        assert_eq!(
            validate_pools(&c, &[p("10.0.0.2", "10.0.1.10")])
                .err()
                .map(|e| e.kind),
            Some("OutOfBoundsAllocationPool")
        );
        assert_eq!(
            validate_pools(&c, &[p("10.0.0.9", "10.0.0.2")])
                .err()
                .map(|e| e.kind),
            Some("InvalidAllocationPool")
        );
        assert_eq!(
            validate_pools(&c, &[p("2001:db8::1", "2001:db8::2")])
                .err()
                .map(|e| e.kind),
            Some("InvalidAllocationPool")
        );
    }

    #[test]
    fn first_free_goes_in_order() {
        let pools = [
            Range {
                first: 10,
                last: 12,
            },
            Range {
                first: 20,
                last: 21,
            },
        ];
        assert_eq!(first_free(&pools, &[]), Some(10));
        assert_eq!(first_free(&pools, &[10, 11]), Some(12));
        assert_eq!(first_free(&pools, &[10, 11, 12]), Some(20));
        assert_eq!(first_free(&pools, &[5, 10, 12]), Some(11));
        assert_eq!(first_free(&pools, &[10, 11, 12, 20, 21]), None);
        let big = [Range {
            first: 1,
            last: u128::MAX - 1,
        }];
        assert_eq!(first_free(&big, &[1, 2, 3]), Some(4));
    }
    #[test]
    fn free_ranges_are_the_pools_without_the_used_addresses() {
        let r = |first, last| Range { first, last };
        let pools = [r(20, 21), r(10, 12)];
        assert_eq!(free_ranges(&pools, &[]), vec![r(10, 12), r(20, 21)]);
        assert_eq!(free_ranges(&pools, &[10, 11]), vec![r(12, 12), r(20, 21)]);
        assert_eq!(
            free_ranges(&pools, &[5, 11, 11, 21, 30]),
            vec![r(10, 10), r(12, 12), r(20, 20)]
        );
        assert_eq!(free_ranges(&pools, &[10, 11, 12, 20, 21]), vec![]);
        let all = [r(u128::MAX - 2, u128::MAX)];
        assert_eq!(
            free_ranges(&all, &[u128::MAX - 1]),
            vec![r(u128::MAX - 2, u128::MAX - 2), r(u128::MAX, u128::MAX)]
        );
        assert_eq!(free_ranges(&all, &[u128::MAX]), vec![r(u128::MAX - 2, u128::MAX - 1)]);
        // first_free agrees with the first free range.
        for used in [vec![], vec![10], vec![10, 11, 12], vec![10, 11, 12, 20]] {
            assert_eq!(
                first_free(&[r(10, 12), r(20, 21)], &used),
                free_ranges(&pools, &used).first().map(|x| x.first)
            );
        }
    }

    #[test]
    fn sort_keys_sort_as_addresses() {
        let keys: Vec<String> = [0u128, 9, 10, 255, 1 << 32, u128::MAX]
            .iter()
            .map(|a| sort_key(*a))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert!(keys.iter().all(|k| k.len() == 39));
        assert_eq!(from_sort_key(&sort_key(u128::MAX)), Some(u128::MAX));
    }
}
