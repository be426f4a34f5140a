//! Security groups and rules: a `default` group per project created on first use with
//! Neutron's four rules (all egress, ingress from members of the same group, IPv4 and IPv6),
//! new groups with the two egress rules, rules validated as Neutron does (protocols by name or
//! number, port ranges, ICMP type/code, remote IP prefix or remote group, ethertype), and
//! duplicates refused with 409 SecurityGroupRuleExists.

use crate::db::security_groups::{self as sgdb, Rule, SecurityGroup};
use crate::db::{self, tags, Tx};
use crate::error::{NeutronError, NeutronResult};
use crate::ipam::Cidr;
use crate::NetworkService;

/// Protocol names Neutron accepts and their numbers.
pub const PROTOCOLS: &[(&str, u8)] = &[
    ("ah", 51),
    ("dccp", 33),
    ("egp", 8),
    ("esp", 50),
    ("gre", 47),
    ("hopopt", 0),
    ("icmp", 1),
    ("igmp", 2),
    ("ip", 0),
    ("ipip", 4),
    ("ipv6-encap", 41),
    ("ipv6-frag", 44),
    ("ipv6-icmp", 58),
    ("icmpv6", 58),
    ("ipv6-nonxt", 59),
    ("ipv6-opts", 60),
    ("ipv6-route", 43),
    ("ospf", 89),
    ("pgm", 113),
    ("rsvp", 46),
    ("sctp", 132),
    ("tcp", 6),
    ("udp", 17),
    ("udplite", 136),
    ("vrrp", 112),
];
/// Protocols whose rules may carry port ranges.
const PORT_PROTOCOLS: &[u8] = &[33, 132, 6, 17, 136];
/// Protocols only IPv6 carries.
const IPV6_ONLY: &[u8] = &[41, 44, 58, 59, 60, 43];

/// A rule as asked for, converted attribute by attribute.
#[derive(Debug, Clone, Default)]
pub struct RuleSpec {
    pub project_id: String,
    pub security_group_id: String,
    pub direction: String,
    pub ethertype: String,
    pub protocol: Option<String>,
    pub port_range_min: Option<i64>,
    pub port_range_max: Option<i64>,
    pub remote_ip_prefix: Option<String>,
    pub remote_group_id: Option<String>,
    pub description: String,
}

fn protocol_number(p: &str) -> Option<u8> {
    PROTOCOLS
        .iter()
        .find(|(n, _)| *n == p)
        .map(|(_, v)| *v)
        .or_else(|| p.parse().ok())
}

/// Neutron's convert_protocol: None for "any", a known name (lower-case) or 0..=255.
pub fn convert_protocol(text: &str) -> NeutronResult<Option<String>> {
    if text.eq_ignore_ascii_case("any") {
        return Ok(None);
    }
    if let Ok(n) = text.parse::<i64>() {
        if (0..=255).contains(&n) {
            return Ok(Some(n.to_string()));
        }
    } else if protocol_number(&text.to_ascii_lowercase()).is_some() {
        return Ok(Some(text.to_ascii_lowercase()));
    }
    let names: Vec<&str> = PROTOCOLS.iter().map(|(n, _)| *n).collect();
    Err(NeutronError::invalid_input(format!(
        "Security group rule protocol {text} not supported. Only protocol values [None, 'any', {}] and integer representations [0 to 255] are supported",
        names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
    )))
}

/// Validates and normalizes a rule as Neutron does; returns it with its duplicate key.
pub fn normalize(mut r: RuleSpec) -> NeutronResult<(RuleSpec, String)> {
    if r.ethertype == "IPv6" {
        match r.protocol.as_deref() {
            Some("icmp" | "icmpv6") => r.protocol = Some("ipv6-icmp".into()),
            Some("1") => r.protocol = Some("58".into()),
            _ => {}
        }
    }
    if r.port_range_min == Some(1) && r.port_range_max == Some(65535) {
        r.port_range_min = None;
        r.port_range_max = None;
    }
    let proto = r.protocol.as_deref().and_then(protocol_number);
    if r.port_range_min.is_some() || r.port_range_max.is_some() {
        let Some(p) = proto else {
            return Err(NeutronError::invalid_input(
                "Must also specify protocol if port range is given",
            ));
        };
        if PORT_PROTOCOLS.contains(&p) {
            for v in [r.port_range_min, r.port_range_max].into_iter().flatten() {
                if !(1..=65535).contains(&v) {
                    return Err(NeutronError::invalid_input(format!(
                        "Invalid value for port {v}"
                    )));
                }
            }
            match (r.port_range_min, r.port_range_max) {
                (Some(a), Some(b)) if a <= b => {}
                _ => {
                    return Err(NeutronError::invalid_input(
                        "For TCP/UDP protocols, port_range_min must be <= port_range_max",
                    ))
                }
            }
        } else if p == 1 || p == 58 {
            for (v, field, attr) in [
                (r.port_range_min, "type", "port_range_min"),
                (r.port_range_max, "code", "port_range_max"),
            ] {
                if let Some(v) = v {
                    if !(0..=255).contains(&v) {
                        return Err(NeutronError::invalid_input(format!(
                            "Invalid value for ICMP {field} ({attr}) {v}. It must be 0 to 255"
                        )));
                    }
                }
            }
            if r.port_range_min.is_none() {
                if let Some(v) = r.port_range_max {
                    return Err(NeutronError::invalid_input(format!("ICMP code (port-range-max) {v} is provided but ICMP type (port-range-min) is missing")));
                }
            }
        } else {
            return Err(NeutronError::invalid_input(format!("Ports cannot be specified for protocol {p}. Ports are only supported for DCCP, SCTP, TCP, UDP, UDPLITE")));
        }
    }
    if let Some(prefix) = &r.remote_ip_prefix {
        let (addr, _) = prefix.split_once('/').unwrap_or((prefix, ""));
        let version = crate::ipam::parse_ip(addr).map(|(v, _)| v).ok_or_else(|| {
            NeutronError::bad(
                "InvalidCIDR",
                format!("Invalid CIDR {prefix} given as IP prefix."),
            )
        })?;
        let normalized = normalized_cidr(prefix).ok_or_else(|| {
            NeutronError::bad(
                "InvalidCIDR",
                format!("Invalid CIDR {prefix} given as IP prefix."),
            )
        })?;
        let wanted = if r.ethertype == "IPv6" { 6 } else { 4 };
        if version != wanted {
            return Err(NeutronError::invalid_input(format!(
                "Conflicting value ethertype {} for CIDR {prefix}",
                r.ethertype
            )));
        }
        let _ = normalized;
    }
    if let Some(p) = proto {
        if IPV6_ONLY.contains(&p) && r.ethertype == "IPv4" {
            return Err(NeutronError::invalid_input(format!(
                "Invalid ethertype {} for protocol {}",
                r.ethertype,
                r.protocol.as_deref().unwrap_or("")
            )));
        }
    }
    if r.remote_ip_prefix.is_some() && r.remote_group_id.is_some() {
        return Err(NeutronError::invalid_input("Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided"));
    }
    let any = |v: &Option<String>| {
        v.as_deref()
            .map(str::to_string)
            .unwrap_or_else(|| "+".into())
    };
    let remote_ip = match r.remote_ip_prefix.as_deref() {
        None | Some("0.0.0.0/0" | "::/0") => "+".to_string(),
        Some(p) => normalized_cidr(p).unwrap_or_else(|| p.to_string()),
    };
    let key = [
        r.direction.clone(),
        r.ethertype.clone(),
        r.port_range_max
            .map(|v| v.to_string())
            .unwrap_or_else(|| "+".into()),
        r.port_range_min
            .map(|v| v.to_string())
            .unwrap_or_else(|| "+".into()),
        proto.map(|p| p.to_string()).unwrap_or_else(|| "+".into()),
        any(&r.remote_group_id),
        remote_ip,
    ]
    .join("_");
    Ok((r, key))
}

/// The network of a remote IP prefix (`10.0.0.1/24` → `10.0.0.0/24`).
pub fn normalized_cidr(prefix: &str) -> Option<String> {
    let (addr, len) = match prefix.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (prefix, None),
    };
    let (v, ip) = crate::ipam::parse_ip(addr)?;
    let max = if v == 4 { 32 } else { 128 };
    let len: u32 = match len {
        Some(l) => l.parse().ok().filter(|l| *l <= max)?,
        None => max,
    };
    let host_bits = max - len;
    let masked = if host_bits >= 128 {
        0
    } else {
        ip >> host_bits << host_bits
    };
    let text = format!("{}/{len}", crate::ipam::format_ip(v, masked));
    Cidr::parse(&text).ok().map(|c| c.to_string())
}

fn new_rule(spec: &RuleSpec, key: String) -> Rule {
    let now = monostack_common::time::now_micros();
    Rule {
        id: uuid::Uuid::new_v4().to_string(),
        project_id: spec.project_id.clone(),
        security_group_id: spec.security_group_id.clone(),
        direction: spec.direction.clone(),
        ethertype: spec.ethertype.clone(),
        protocol: spec.protocol.clone(),
        port_range_min: spec.port_range_min,
        port_range_max: spec.port_range_max,
        remote_ip_prefix: spec.remote_ip_prefix.clone(),
        remote_group_id: spec.remote_group_id.clone(),
        description: spec.description.clone(),
        rule_key: key,
        created_at: now,
        updated_at: now,
        revision_number: 0,
    }
}

async fn add_rules(
    tx: &mut Tx,
    group: &SecurityGroup,
    specs: &[(&str, &str, bool)],
) -> NeutronResult<()> {
    for (direction, ethertype, remote_self) in specs {
        let spec = RuleSpec {
            project_id: group.project_id.clone(),
            security_group_id: group.id.clone(),
            direction: (*direction).into(),
            ethertype: (*ethertype).into(),
            remote_group_id: remote_self.then(|| group.id.clone()),
            ..Default::default()
        };
        let (spec, key) = normalize(spec)?;
        sgdb::insert_rule(tx, &new_rule(&spec, key)).await?;
    }
    Ok(())
}

fn new_group(project_id: &str, name: &str, description: &str, stateful: bool) -> SecurityGroup {
    let now = monostack_common::time::now_micros();
    SecurityGroup {
        id: uuid::Uuid::new_v4().to_string(),
        project_id: project_id.into(),
        name: name.into(),
        description: description.into(),
        stateful,
        created_at: now,
        updated_at: now,
        revision_number: 1,
        is_default: false,
        rules: Vec::new(),
        tags: Vec::new(),
    }
}

/// The project's default group, created with Neutron's four rules on first use. Two
/// requests racing to create it: the project key lets one win, the other retries and finds it.
pub async fn ensure_default(tx: &mut Tx, project_id: &str) -> NeutronResult<String> {
    if let Some(id) = sgdb::default_of(tx, project_id).await? {
        return Ok(id);
    }
    let g = new_group(project_id, "default", "Default security group", true);
    sgdb::set_default(tx, project_id, &g.id).await?;
    sgdb::insert(tx, &g).await?;
    add_rules(
        tx,
        &g,
        &[
            ("egress", "IPv4", false),
            ("egress", "IPv6", false),
            ("ingress", "IPv4", true),
            ("ingress", "IPv6", true),
        ],
    )
    .await?;
    Ok(g.id)
}

/// Ensures `project_id`'s default group in a transaction of its own.
pub async fn ensure_default_now(svc: &NetworkService, project_id: &str) -> NeutronResult<String> {
    db::write(&svc.db, |tx, _| {
        Box::pin(async move { ensure_default(tx, project_id).await })
    })
    .await
}

pub async fn create(
    svc: &NetworkService,
    project_id: &str,
    name: &str,
    description: &str,
    stateful: bool,
    tag_list: &[String],
) -> NeutronResult<SecurityGroup> {
    db::write(&svc.db, |tx, _| {
        Box::pin(async move {
            ensure_default(tx, project_id).await?;
            crate::service::quotas::check(svc, tx, project_id, "security_group", 1).await?;
            crate::service::quotas::check(svc, tx, project_id, "security_group_rule", 2).await?;
            let g = new_group(project_id, name, description, stateful);
            sgdb::insert(tx, &g).await?;
            add_rules(
                tx,
                &g,
                &[("egress", "IPv4", false), ("egress", "IPv6", false)],
            )
            .await?;
            if !tag_list.is_empty() {
                tags::replace(tx, "security-groups", &g.id, tag_list).await?;
            }
            sgdb::must_get(tx, &g.id).await
        })
    })
    .await
}

pub async fn update(
    svc: &NetworkService,
    id: &str,
    name: Option<String>,
    description: Option<String>,
    stateful: Option<bool>,
    check: &(dyn Fn(&SecurityGroup) -> NeutronResult<()> + Sync),
) -> NeutronResult<SecurityGroup> {
    db::write(&svc.db, |tx, _| {
        let (name, description) = (name.clone(), description.clone());
        Box::pin(async move {
            let mut g = sgdb::must_get(tx, id).await?;
            check(&g)?;
            if let Some(n) = name {
                if g.is_default && n != "default" {
                    return Err(NeutronError::conflict(
                        "SecurityGroupCannotUpdateDefault",
                        "Updating default security group not allowed.",
                    ));
                }
                g.name = n;
            }
            if let Some(d) = description {
                g.description = d;
            }
            if let Some(s) = stateful {
                if s != g.stateful && sgdb::in_use(tx, id).await? {
                    return Err(NeutronError::conflict(
                        "SecurityGroupInUse",
                        format!("Security Group {id} in use."),
                    ));
                }
                g.stateful = s;
            }
            sgdb::save(tx, &mut g).await?;
            Ok(g)
        })
    })
    .await
}

pub async fn delete(
    svc: &NetworkService,
    id: &str,
    admin: bool,
    check: &(dyn Fn(&SecurityGroup) -> NeutronResult<()> + Sync),
) -> NeutronResult<()> {
    db::write(&svc.db, |tx, _| {
        Box::pin(async move {
            let g = sgdb::must_get(tx, id).await?;
            check(&g)?;
            if g.is_default && !admin {
                return Err(NeutronError::conflict(
                    "SecurityGroupCannotRemoveDefault",
                    "Insufficient rights for removing default security group.",
                ));
            }
            if sgdb::in_use(tx, id).await? {
                return Err(NeutronError::conflict(
                    "SecurityGroupInUse",
                    format!("Security Group {id} in use."),
                ));
            }
            sgdb::delete(tx, id).await
        })
    })
    .await
}

/// Adds a rule; 409 SecurityGroupRuleExists when the group already has the same rule.
pub async fn create_rule(svc: &NetworkService, spec: RuleSpec) -> NeutronResult<Rule> {
    let (spec, key) = normalize(spec)?;
    db::write(&svc.db, |tx, _| {
        let (spec, key) = (&spec, key.clone());
        Box::pin(async move {
            sgdb::must_get(tx, &spec.security_group_id).await?;
            if let Some(remote) = &spec.remote_group_id {
                sgdb::must_get(tx, remote).await?;
            }
            if let Some(existing) = sgdb::rule_with_key(tx, &spec.security_group_id, &key).await? {
                return Err(NeutronError::conflict(
                    "SecurityGroupRuleExists",
                    format!("Security group rule already exists. Rule id is {existing}."),
                ));
            }
            crate::service::quotas::check(svc, tx, &spec.project_id, "security_group_rule", 1)
                .await?;
            let rule = new_rule(spec, key);
            sgdb::insert_rule(tx, &rule).await?;
            sgdb::touch(tx, &spec.security_group_id).await?;
            Ok(rule)
        })
    })
    .await
}

pub async fn delete_rule(
    svc: &NetworkService,
    id: &str,
    check: &(dyn Fn(&Rule) -> NeutronResult<()> + Sync),
) -> NeutronResult<()> {
    db::write(&svc.db, |tx, _| {
        Box::pin(async move {
            let r = sgdb::must_get_rule(tx, id).await?;
            check(&r)?;
            sgdb::delete_rule(tx, id).await?;
            sgdb::touch(tx, &r.security_group_id).await
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(direction: &str, ethertype: &str) -> RuleSpec {
        RuleSpec {
            direction: direction.into(),
            ethertype: ethertype.into(),
            security_group_id: "g".into(),
            ..Default::default()
        }
    }

    #[test]
    fn rules_are_normalized_and_validated() {
        assert_eq!(
            convert_protocol("TCP").ok().flatten().as_deref(),
            Some("tcp")
        );
        assert_eq!(convert_protocol("any").ok().flatten(), None);
        assert_eq!(convert_protocol("17").ok().flatten().as_deref(), Some("17"));
        assert!(convert_protocol("256").is_err());
        assert!(convert_protocol("bogus").is_err());
        let tcp = |a, b| RuleSpec {
            protocol: Some("tcp".into()),
            port_range_min: a,
            port_range_max: b,
            ..spec("ingress", "IPv4")
        };
        assert!(normalize(tcp(Some(22), Some(22))).is_ok());
        assert!(normalize(tcp(Some(23), Some(22))).is_err());
        assert!(normalize(tcp(Some(0), Some(22))).is_err());
        assert_eq!(
            normalize(tcp(Some(1), Some(65535)))
                .map(|(r, _)| r.port_range_min)
                .ok()
                .flatten(),
            None,
            "the whole range is no range"
        );
        // By name or by number, the same rule has the same key.
        let by_num = RuleSpec {
            protocol: Some("6".into()),
            port_range_min: Some(22),
            port_range_max: Some(22),
            ..spec("ingress", "IPv4")
        };
        assert_eq!(
            normalize(tcp(Some(22), Some(22))).map(|x| x.1).ok(),
            normalize(by_num).map(|x| x.1).ok()
        );
        let icmp = RuleSpec {
            protocol: Some("icmp".into()),
            port_range_max: Some(0),
            ..spec("ingress", "IPv4")
        };
        assert!(normalize(icmp).is_err(), "an ICMP code needs a type");
        let six = RuleSpec {
            protocol: Some("icmp".into()),
            ..spec("ingress", "IPv6")
        };
        assert_eq!(
            normalize(six)
                .map(|(r, _)| r.protocol)
                .ok()
                .flatten()
                .as_deref(),
            Some("ipv6-icmp")
        );
        let wrong = RuleSpec {
            remote_ip_prefix: Some("2001:db8::/64".into()),
            ..spec("ingress", "IPv4")
        };
        assert!(normalize(wrong).is_err());
        let ports_without_proto = RuleSpec {
            port_range_min: Some(1),
            port_range_max: Some(2),
            ..spec("ingress", "IPv4")
        };
        assert!(normalize(ports_without_proto).is_err());
        let both = RuleSpec {
            remote_ip_prefix: Some("10.0.0.0/8".into()),
            remote_group_id: Some("x".into()),
            ..spec("ingress", "IPv4")
        };
        assert!(normalize(both).is_err());
        let any = RuleSpec {
            remote_ip_prefix: Some("0.0.0.0/0".into()),
            ..spec("egress", "IPv4")
        };
        assert_eq!(
            normalize(any).map(|x| x.1).ok(),
            normalize(spec("egress", "IPv4")).map(|x| x.1).ok()
        );
        assert_eq!(
            normalized_cidr("10.0.0.1/24").as_deref(),
            Some("10.0.0.0/24")
        );
        assert_eq!(normalized_cidr("10.0.0.1").as_deref(), Some("10.0.0.1/32"));
    }
}
