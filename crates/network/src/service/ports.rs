//! Ports: MAC addresses (`fa:16:3e` prefix, unique per network), fixed IPs requested or
//! allocated in order from the subnets' pools, EUI-64 addresses on SLAAC subnets, binding
//! attributes, port security with security groups and allowed address pairs, and the status
//! the agents drive (see [`crate::rpc`]).
//!
//! Address allocation runs inside the port's write transaction after locking the row of
//! every subnet it draws from (in id order, so two writers cannot deadlock): the next free
//! address is then taken from the subnet's availability ranges ([`crate::db::ip_ranges`])
//! under the lock, and the unique key on (subnet, address) stands behind it. Many ports created at once on one subnet get distinct addresses, then a clean
//! 409 IpAddressGenerationFailure once the pools are exhausted.

use crate::db::ports::{self, Port};
use crate::db::security_groups as security_groups_db;
use crate::db::subnets::{self, Subnet};
use crate::db::{self, ip_ranges, tags, Bind, Tx};
use crate::error::{NeutronError, NeutronResult};
use crate::ipam::{self, Cidr};
use crate::rpc::{PORT_STATUS_DOWN, VIF_TYPE_BINDING_FAILED, VIF_TYPE_BRIDGE, VIF_TYPE_UNBOUND};
use crate::service::security_groups;
use crate::service::subnets::is_auto_address;
use crate::NetworkService;
use rand::Rng;
use serde_json::{json, Value};

/// Device owners whose ports belong to a router or floating IP: deleted through those APIs.
pub const SERVICE_OWNERS: &[&str] = &[
    "network:router_interface",
    "network:router_interface_distributed",
    "network:ha_router_replicated_interface",
    "network:router_gateway",
    "network:floatingip",
    "network:router_centralized_snat",
];

/// vNIC types a port may ask for.
pub const VNIC_TYPES: &[&str] = &[
    "normal",
    "direct",
    "macvtap",
    "baremetal",
    "direct-physical",
    "virtio-forwarder",
    "smart-nic",
    "vdpa",
    "remote-managed",
    "accelerator-direct",
    "accelerator-direct-physical",
];

/// One entry of `fixed_ips` as asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct FixedIpRequest {
    pub subnet_id: Option<String>,
    pub ip_address: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct PortCreate {
    pub project_id: String,
    pub network_id: String,
    pub name: String,
    pub description: String,
    pub mac_address: Option<String>,
    pub admin_state_up: bool,
    pub device_id: String,
    pub device_owner: String,
    /// None inherits the network's setting.
    pub port_security_enabled: Option<bool>,
    pub dns_name: String,
    pub binding_host_id: String,
    pub binding_vnic_type: String,
    pub binding_profile: Value,
    pub allowed_address_pairs: Value,
    pub extra_dhcp_opts: Value,
    /// None: the default (none until security groups exist).
    pub security_groups: Option<Vec<String>>,
    /// None: an address from the network's subnets; Some([]): none.
    pub fixed_ips: Option<Vec<FixedIpRequest>>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct PortUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub mac_address: Option<String>,
    pub admin_state_up: Option<bool>,
    pub device_id: Option<String>,
    pub device_owner: Option<String>,
    pub port_security_enabled: Option<bool>,
    pub dns_name: Option<String>,
    pub binding_host_id: Option<String>,
    pub binding_vnic_type: Option<String>,
    pub binding_profile: Option<Value>,
    pub allowed_address_pairs: Option<Value>,
    pub extra_dhcp_opts: Option<Value>,
    pub security_groups: Option<Vec<String>>,
    pub fixed_ips: Option<Vec<FixedIpRequest>>,
}

/// A random MAC with OpenStack's `fa:16:3e` prefix.
pub fn random_mac() -> String {
    let mut rng = rand::thread_rng();
    let b: [u8; 3] = rng.gen();
    format!("fa:16:3e:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2])
}

/// A MAC as Neutron accepts it (six hex pairs, `:` or `-`), lower-case with colons; not
/// multicast or all zeros.
pub fn canonical_mac(text: &str) -> Option<String> {
    let parts: Vec<&str> = text.split([':', '-']).collect();
    if parts.len() != 6 || parts.iter().any(|p| p.len() != 2) {
        return None;
    }
    let bytes: Vec<u8> = parts
        .iter()
        .map(|p| u8::from_str_radix(p, 16))
        .collect::<Result<_, _>>()
        .ok()?;
    if bytes.iter().all(|b| *b == 0) || bytes[0] & 1 == 1 {
        return None;
    }
    Some(
        bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
    )
}

/// The EUI-64 address of `mac` in an IPv6 /64.
pub fn eui64(cidr: &Cidr, mac: &str) -> Option<u128> {
    let bytes: Vec<u8> = mac
        .split(':')
        .map(|p| u8::from_str_radix(p, 16))
        .collect::<Result<_, _>>()
        .ok()?;
    if bytes.len() != 6 {
        return None;
    }
    let iid = [
        bytes[0] ^ 0x02,
        bytes[1],
        bytes[2],
        0xff,
        0xfe,
        bytes[3],
        bytes[4],
        bytes[5],
    ];
    let mut v: u128 = 0;
    for b in iid {
        v = (v << 8) | u128::from(b);
    }
    Some(cidr.first() | v)
}

/// The binding the mechanism driver (linuxbridge) gives a port on `host`.
fn bind(host: &str, vnic_type: &str) -> (String, Value) {
    if host.is_empty() {
        (VIF_TYPE_UNBOUND.into(), json!({}))
    } else if vnic_type == "normal" {
        (
            VIF_TYPE_BRIDGE.into(),
            json!({"connectivity": "l2", "port_filter": true}),
        )
    } else {
        (VIF_TYPE_BINDING_FAILED.into(), json!({}))
    }
}

struct Allocator<'a> {
    network_id: &'a str,
    subnets: Vec<Subnet>,
    /// Subnets locked for allocation in this transaction.
    locked: Vec<String>,
    /// Subnets whose availability ranges were checked current in this transaction.
    ranges_ready: Vec<String>,
    /// Subnets whose ranges were rebuilt after looking exhausted.
    rebuilt: Vec<String>,
}

impl Allocator<'_> {
    fn subnet(&self, id: &str) -> Option<&Subnet> {
        self.subnets.iter().find(|s| s.id == id)
    }

    /// Locks the rows of `ids` not locked yet, in id order.
    async fn lock(&mut self, tx: &mut Tx, ids: &[String]) -> NeutronResult<()> {
        let mut ids: Vec<&String> = ids.iter().filter(|i| !self.locked.contains(i)).collect();
        ids.sort();
        ids.dedup();
        for id in ids {
            subnets::lock_for_allocation(tx, id).await?;
            self.locked.push(id.clone());
        }
        Ok(())
    }

    /// Makes the subnet's availability ranges current (under its lock, taken before).
    async fn ensure_ranges(&mut self, tx: &mut Tx, s: &Subnet) -> NeutronResult<()> {
        if self.ranges_ready.contains(&s.id) {
            return Ok(());
        }
        if !ip_ranges::ready(tx, &s.id).await? {
            ip_ranges::rebuild(tx, &s.id).await?;
        }
        self.ranges_ready.push(s.id.clone());
        Ok(())
    }

    /// Takes the next free address of the subnet's pools, in order (the gateway never), from
    /// its availability ranges: a few indexed statements however full the subnet is. When
    /// they look exhausted they are rebuilt once from the allocations, so an address freed
    /// without them (by a bug or by hand) is not lost.
    async fn next_free(&mut self, tx: &mut Tx, s: &Subnet) -> NeutronResult<Option<String>> {
        let cidr = Cidr::parse(&s.cidr).map_err(NeutronError::internal)?;
        self.ensure_ranges(tx, s).await?;
        if let Some(ip) = ip_ranges::take_first(tx, &s.id).await? {
            return Ok(Some(cidr.format(ip)));
        }
        if self.rebuilt.contains(&s.id) {
            return Ok(None);
        }
        self.rebuilt.push(s.id.clone());
        ip_ranges::rebuild(tx, &s.id).await?;
        Ok(ip_ranges::take_first(tx, &s.id)
            .await?
            .map(|ip| cidr.format(ip)))
    }

    /// Takes `ip` on subnet `s` for the port: inside the subnet, not automatic, free.
    async fn take(
        &mut self,
        tx: &mut Tx,
        port_id: &str,
        s: &Subnet,
        ip: &str,
    ) -> NeutronResult<String> {
        let cidr = Cidr::parse(&s.cidr).map_err(NeutronError::internal)?;
        let invalid = || {
            NeutronError::bad(
                "InvalidIpForSubnet",
                format!("IP address {ip} is not a valid IP for the specified subnet."),
            )
        };
        let (v, addr) = ipam::parse_ip(ip).ok_or_else(invalid)?;
        if v != cidr.version || !cidr.usable(addr) {
            return Err(invalid());
        }
        if is_auto_address(s) {
            return Err(NeutronError::invalid_input(format!(
                "IPv6 address {ip} cannot be directly assigned to a port on subnet {} as the subnet is configured for automatic addresses",
                s.id
            )));
        }
        let canon = cidr.format(addr);
        if ports::ip_holder(tx, &s.id, &canon).await?.is_some() {
            return Err(NeutronError::ip_in_use(self.network_id, &canon));
        }
        self.ensure_ranges(tx, s).await?;
        ip_ranges::take(tx, &s.id, addr).await?;
        ports::add_ip(tx, port_id, self.network_id, &s.id, &canon).await?;
        Ok(canon)
    }

    /// Allocates the next free address of `s`; None when its pools are full.
    async fn take_next(
        &mut self,
        tx: &mut Tx,
        port_id: &str,
        s: &Subnet,
        mac: &str,
    ) -> NeutronResult<Option<String>> {
        if is_auto_address(s) {
            let cidr = Cidr::parse(&s.cidr).map_err(NeutronError::internal)?;
            let ip = eui64(&cidr, mac)
                .map(|a| cidr.format(a))
                .ok_or_else(|| NeutronError::internal("bad MAC"))?;
            if ports::ip_holder(tx, &s.id, &ip).await?.is_some() {
                return Err(NeutronError::ip_in_use(self.network_id, &ip));
            }
            ports::add_ip(tx, port_id, self.network_id, &s.id, &ip).await?;
            return Ok(Some(ip));
        }
        match self.next_free(tx, s).await? {
            Some(ip) => {
                ports::add_ip(tx, port_id, self.network_id, &s.id, &ip).await?;
                Ok(Some(ip))
            }
            None => Ok(None),
        }
    }

    /// The subnet an entry of `fixed_ips` names: its `subnet_id` (on this network), or the
    /// subnet containing its `ip_address`.
    fn subnet_for(&self, req: &FixedIpRequest) -> NeutronResult<Subnet> {
        if let Some(id) = &req.subnet_id {
            return self.subnet(id).cloned().ok_or_else(|| {
                NeutronError::invalid_input(format!("Failed to create port on network {}, because fixed_ips included invalid subnet {id}", self.network_id))
            });
        }
        let Some(ip) = &req.ip_address else {
            return Err(NeutronError::invalid_input(
                "IP allocation requires subnet_id or ip_address",
            ));
        };
        let invalid = || {
            NeutronError::bad("InvalidIpForNetwork", format!("IP address {ip} is not a valid IP for any of the subnets on the specified network."))
        };
        let (v, addr) = ipam::parse_ip(ip).ok_or_else(invalid)?;
        self.subnets
            .iter()
            .find(|s| {
                Cidr::parse(&s.cidr)
                    .map(|c| c.version == v && c.contains(addr))
                    .unwrap_or(false)
            })
            .cloned()
            .ok_or_else(invalid)
    }

    /// Gives the port the addresses asked for (or the default ones); `keep` are addresses
    /// it already holds that stay. Returns what it now holds.
    async fn allocate(
        &mut self,
        tx: &mut Tx,
        port_id: &str,
        mac: &str,
        requests: Option<&[FixedIpRequest]>,
        keep: &[(String, String)],
    ) -> NeutronResult<Vec<(String, String)>> {
        let mut out: Vec<(String, String)> = Vec::new();
        match requests {
            None => {
                let ids: Vec<String> = self.subnets.iter().map(|s| s.id.clone()).collect();
                self.lock(tx, &ids).await?;
                let subnets = self.subnets.clone();
                // One address of each family from the first subnet with room; every
                // SLAAC subnet gives its EUI-64 address.
                for version in [4, 6] {
                    let stateful: Vec<&Subnet> = subnets
                        .iter()
                        .filter(|s| s.ip_version == version && !is_auto_address(s))
                        .collect();
                    let mut got = stateful.is_empty();
                    for s in &stateful {
                        if let Some(ip) = self.take_next(tx, port_id, s, mac).await? {
                            out.push((s.id.clone(), ip));
                            got = true;
                            break;
                        }
                    }
                    if !got {
                        return Err(NeutronError::ip_generation_failure(self.network_id));
                    }
                }
                for s in subnets.iter().filter(|s| is_auto_address(s)) {
                    if let Some(ip) = self.take_next(tx, port_id, s, mac).await? {
                        out.push((s.id.clone(), ip));
                    }
                }
            }
            Some(list) => {
                let mut resolved = Vec::new();
                for r in list {
                    resolved.push((self.subnet_for(r)?, r.ip_address.clone()));
                }
                let ids: Vec<String> = resolved.iter().map(|(s, _)| s.id.clone()).collect();
                self.lock(tx, &ids).await?;
                let mut kept: Vec<(String, String)> = keep.to_vec();
                for (s, ip) in resolved {
                    match ip {
                        Some(ip) => {
                            let canon = ipam::canonical_ip(&ip).unwrap_or(ip.clone());
                            if let Some(pos) = kept
                                .iter()
                                .position(|(sid, kip)| *sid == s.id && *kip == canon)
                            {
                                out.push(kept.remove(pos));
                                continue;
                            }
                            let got = self.take(tx, port_id, &s, &ip).await?;
                            out.push((s.id.clone(), got));
                        }
                        None => {
                            if let Some(pos) = kept.iter().position(|(sid, _)| *sid == s.id) {
                                out.push(kept.remove(pos));
                                continue;
                            }
                            match self.take_next(tx, port_id, &s, mac).await? {
                                Some(ip) => out.push((s.id.clone(), ip)),
                                None => {
                                    return Err(NeutronError::ip_generation_failure(
                                        self.network_id,
                                    ))
                                }
                            }
                        }
                    }
                }
                // What the port held and no longer asks for is released.
                for (sid, ip) in kept {
                    ports::remove_ip(tx, &sid, &ip).await?;
                }
            }
        }
        Ok(out)
    }
}

/// Port security needs: no security groups or address pairs once it is off.
fn check_port_security(
    enabled: bool,
    groups: &[String],
    pairs: &Value,
    has_ip: bool,
) -> NeutronResult<()> {
    if !enabled && !groups.is_empty() {
        return Err(NeutronError::conflict(
            "PortSecurityAndIPRequiredForSecurityGroups",
            "Port security must be enabled and port must have an IP address in order to use security groups.",
        ));
    }
    if !has_ip && !groups.is_empty() {
        return Err(NeutronError::bad(
            "PortSecurityAndIPRequiredForSecurityGroups",
            "Port security must be enabled and port must have an IP address in order to use security groups.",
        ));
    }
    if !enabled && pairs.as_array().is_some_and(|a| !a.is_empty()) {
        return Err(NeutronError::conflict(
            "AddressPairAndPortSecurityRequired",
            "Port Security must be enabled in order to have allowed address pairs on a port.",
        ));
    }
    Ok(())
}

/// Every group must exist and belong to the port's project (404 SecurityGroupNotFound).
async fn check_groups(tx: &mut Tx, project_id: &str, groups: &[String]) -> NeutronResult<()> {
    for g in groups {
        match security_groups_db::get(tx, g).await? {
            Some(found) if found.project_id == project_id => {}
            _ => return Err(security_groups_db::not_found(g)),
        }
    }
    Ok(())
}

/// Fills in each address pair's MAC with the port's.
fn pairs_with_mac(pairs: &Value, mac: &str) -> Value {
    match pairs {
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|p| {
                    let mut p = p.clone();
                    if p.get("mac_address").is_none_or(Value::is_null) {
                        p["mac_address"] = json!(mac);
                    }
                    p
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

pub async fn create(svc: &NetworkService, req: PortCreate) -> NeutronResult<Port> {
    let id = uuid::Uuid::new_v4().to_string();
    db::write(&svc.db, |tx, _| {
        let req = &req;
        let id = id.clone();
        Box::pin(async move { create_in(svc, tx, &id, req, true).await })
    })
    .await
}

/// Creates port `id` inside the caller's write transaction (routers and floating IPs create
/// their ports this way, atomically with their own rows; like Neutron's L3 plugin calling
/// the core plugin, they pass `check_quota` false).
pub async fn create_in(
    svc: &NetworkService,
    tx: &mut Tx,
    id: &str,
    req: &PortCreate,
    check_quota: bool,
) -> NeutronResult<Port> {
    let net = crate::db::networks::must_get(tx, &req.network_id).await?;
    let mac = match &req.mac_address {
        Some(m) => {
            if ports::mac_in_use(tx, &net.id, m).await? {
                return Err(NeutronError::mac_in_use(&net.id, m));
            }
            m.clone()
        }
        None => {
            let mut mac = random_mac();
            let mut tries = 0;
            while ports::mac_in_use(tx, &net.id, &mac).await? {
                tries += 1;
                if tries > 16 {
                    return Err(NeutronError::new(
                        http::StatusCode::SERVICE_UNAVAILABLE,
                        "NetworkMacAddressGenerationFailure",
                        format!("Unable to generate unique mac on network {}.", net.id),
                    ));
                }
                mac = random_mac();
            }
            mac
        }
    };
    let port_security = req
        .port_security_enabled
        .unwrap_or(net.port_security_enabled);
    let now = monostack_common::time::now_micros();
    let (vif_type, vif_details) = bind(&req.binding_host_id, &req.binding_vnic_type);
    let mut port = Port {
        id: id.to_string(),
        project_id: req.project_id.clone(),
        network_id: net.id.clone(),
        name: req.name.clone(),
        description: req.description.clone(),
        mac_address: mac.clone(),
        admin_state_up: req.admin_state_up,
        status: PORT_STATUS_DOWN.into(),
        device_id: req.device_id.clone(),
        device_owner: req.device_owner.clone(),
        port_security_enabled: port_security,
        dns_name: req.dns_name.clone(),
        binding_host_id: req.binding_host_id.clone(),
        binding_vif_type: vif_type,
        binding_vnic_type: req.binding_vnic_type.clone(),
        binding_profile: req.binding_profile.clone(),
        binding_vif_details: vif_details,
        allowed_address_pairs: pairs_with_mac(&req.allowed_address_pairs, &mac),
        extra_dhcp_opts: req.extra_dhcp_opts.clone(),
        created_at: now,
        updated_at: now,
        revision_number: 1,
        fixed_ips: Vec::new(),
        security_groups: Vec::new(),
        tags: Vec::new(),
    };
    if check_quota {
        crate::service::quotas::check(svc, tx, &port.project_id, "port", 1).await?;
    }
    ports::insert(tx, &port).await?;
    let subnets = subnets::load(tx, Some("network_id = ?"), &[Bind::Text(&net.id)]).await?;
    let mut alloc = Allocator {
        network_id: &net.id,
        subnets,
        locked: Vec::new(),
        ranges_ready: Vec::new(),
        rebuilt: Vec::new(),
    };
    port.fixed_ips = alloc
        .allocate(tx, id, &mac, req.fixed_ips.as_deref(), &[])
        .await?;
    // Ports with port security and an address get the project's default group
    // (created on first use) unless groups are named; network devices get none.
    port.security_groups = match &req.security_groups {
        Some(g) => g.clone(),
        None if port.port_security_enabled
            && !port.fixed_ips.is_empty()
            && !port.device_owner.starts_with("network:") =>
        {
            vec![security_groups::ensure_default(tx, &port.project_id).await?]
        }
        None => Vec::new(),
    };
    check_port_security(
        port.port_security_enabled,
        &port.security_groups,
        &port.allowed_address_pairs,
        !port.fixed_ips.is_empty(),
    )?;
    check_groups(tx, &port.project_id, &port.security_groups).await?;
    ports::set_security_groups(tx, id, &port.security_groups).await?;
    if !req.tags.is_empty() {
        tags::replace(tx, "ports", id, &req.tags).await?;
    }
    ports::must_get(tx, id).await
}

/// Updates a port; `check` runs on the current record first (policy, If-Match).
pub async fn update(
    svc: &NetworkService,
    id: &str,
    req: PortUpdate,
    check: &(dyn Fn(&Port) -> NeutronResult<()> + Sync),
) -> NeutronResult<Port> {
    let port = db::write(&svc.db, |tx, _| {
        let req = &req;
        Box::pin(async move {
            let mut p = ports::must_get(tx, id).await?;
            check(&p)?;
            if let Some(v) = &req.name {
                p.name = v.clone();
            }
            if let Some(v) = &req.description {
                p.description = v.clone();
            }
            if let Some(v) = req.admin_state_up {
                p.admin_state_up = v;
            }
            if let Some(v) = &req.device_id {
                p.device_id = v.clone();
            }
            if let Some(v) = &req.device_owner {
                p.device_owner = v.clone();
            }
            if let Some(v) = &req.dns_name {
                p.dns_name = v.clone();
            }
            if let Some(v) = &req.extra_dhcp_opts {
                p.extra_dhcp_opts = v.clone();
            }
            if let Some(m) = &req.mac_address {
                if *m != p.mac_address {
                    if !p.binding_host_id.is_empty() {
                        return Err(NeutronError::conflict("PortBound", format!("Unable to complete operation on port {id}, port is already bound, port type: {}, old_mac {}, new_mac {m}.", p.binding_vif_type, p.mac_address)));
                    }
                    if ports::mac_in_use(tx, &p.network_id, m).await? {
                        return Err(NeutronError::mac_in_use(&p.network_id, m));
                    }
                    p.mac_address = m.clone();
                }
            }
            if let Some(v) = &req.allowed_address_pairs {
                p.allowed_address_pairs = pairs_with_mac(v, &p.mac_address);
            }
            if let Some(v) = &req.security_groups {
                p.security_groups = v.clone();
            }
            if let Some(v) = req.port_security_enabled {
                if !v && req.security_groups.is_none() && !p.security_groups.is_empty() {
                    return Err(NeutronError::conflict(
                        "PortSecurityPortHasSecurityGroup",
                        "Port has security group associated. Cannot disable port security or ip address until security group is removed.",
                    ));
                }
                p.port_security_enabled = v;
            }
            if let Some(v) = &req.binding_vnic_type {
                p.binding_vnic_type = v.clone();
            }
            if let Some(v) = &req.binding_profile {
                p.binding_profile = v.clone();
            }
            if let Some(host) = &req.binding_host_id {
                p.binding_host_id = host.clone();
            }
            if req.binding_host_id.is_some() || req.binding_vnic_type.is_some() {
                let (t, d) = bind(&p.binding_host_id, &p.binding_vnic_type);
                p.binding_vif_type = t;
                p.binding_vif_details = d;
                if p.binding_host_id.is_empty() {
                    p.status = PORT_STATUS_DOWN.into();
                }
            }
            if let Some(list) = &req.fixed_ips {
                let subnets = subnets::load(tx, Some("network_id = ?"), &[Bind::Text(&p.network_id)]).await?;
                let network_id = p.network_id.clone();
                let mut alloc = Allocator { network_id: &network_id, subnets, locked: Vec::new(), ranges_ready: Vec::new(), rebuilt: Vec::new() };
                let keep = p.fixed_ips.clone();
                p.fixed_ips = alloc.allocate(tx, id, &p.mac_address, Some(list), &keep).await?;
            }
            check_port_security(p.port_security_enabled, &p.security_groups, &p.allowed_address_pairs, !p.fixed_ips.is_empty() || p.security_groups.is_empty())?;
            if req.security_groups.is_some() {
                check_groups(tx, &p.project_id, &p.security_groups).await?;
            }
            ports::save(tx, &mut p).await?;
            ports::must_get(tx, id).await
        })
    })
    .await?;
    if req.fixed_ips.is_some() {
        svc.nova.port_changed(&port);
    }
    Ok(port)
}

/// Deletes a port and frees its addresses; router and floating IP ports are refused (409).
pub async fn delete(
    svc: &NetworkService,
    id: &str,
    check: &(dyn Fn(&Port) -> NeutronResult<()> + Sync),
) -> NeutronResult<()> {
    let deleted = db::write(&svc.db, |tx, _| {
        Box::pin(async move {
            let p = ports::must_get(tx, id).await?;
            check(&p)?;
            if SERVICE_OWNERS.contains(&p.device_owner.as_str()) {
                return Err(NeutronError::conflict(
                    "ServicePortInUse",
                    format!("Port {id} cannot be deleted directly via the port API: has device owner {}.", p.device_owner),
                ));
            }
            crate::db::floatingips::release_port(tx, id).await?;
            ports::delete(tx, id).await?;
            Ok(p)
        })
    })
    .await?;
    svc.nova.port_deleted(&deleted);
    Ok(())
}

/// Sets a port's status (the agents' `update_device_up`/`down`, through [`crate::rpc`]).
pub async fn set_status(svc: &NetworkService, id: &str, status: &str) -> NeutronResult<Port> {
    let (port, previous) = db::write(&svc.db, |tx, _| {
        Box::pin(async move {
            let mut p = ports::must_get(tx, id).await?;
            let previous = p.status.clone();
            if p.status != status {
                p.status = status.to_string();
                ports::save(tx, &mut p).await?;
            }
            Ok((p, previous))
        })
    })
    .await?;
    svc.nova.port_status_changed(&port, &previous);
    Ok(port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_and_eui64() {
        let m = random_mac();
        assert!(m.starts_with("fa:16:3e:") && m.len() == 17);
        assert_eq!(
            canonical_mac("FA-16-3E-00-00-01").as_deref(),
            Some("fa:16:3e:00:00:01")
        );
        assert_eq!(canonical_mac("01:00:5e:00:00:01"), None, "multicast");
        assert_eq!(canonical_mac("00:00:00:00:00:00"), None);
        assert_eq!(canonical_mac("fa:16:3e:00:00"), None);
        let cidr = Cidr::parse("2001:db8::/64").expect("cidr");
        assert_eq!(
            eui64(&cidr, "fa:16:3e:12:34:56")
                .map(|a| cidr.format(a))
                .as_deref(),
            Some("2001:db8::f816:3eff:fe12:3456")
        );
    }
}
