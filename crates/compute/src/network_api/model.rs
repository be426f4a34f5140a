//! The network info of an instance in Nova's network model (`nova.network.model`): one VIF
//! per port, with its network (label, bridge, MTU), the subnets of its fixed IPs (CIDR,
//! gateway, DNS, routes), the fixed IPs and their floating IPs. It is what the info cache
//! stores, `addresses` shows and the virt driver plugs.
//!
//! Built from what Neutron says now, in the order of the previous cache (new ports last), as
//! Nova's `_build_network_info_model`; the ports the user passed keep `preserve_on_delete`.

use crate::network_client::{self as net, NetAuth, NetworkApi, NetworkError};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};

/// Nova's NIC_NAME_LEN: `tap` + the first 11 characters of the port id.
const NIC_NAME_LEN: usize = 14;

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn version_of(address: &str) -> i64 {
    if address.contains(':') {
        6
    } else {
        4
    }
}

fn ip(address: &str, kind: &str) -> Value {
    json!({"address": address, "type": kind, "version": version_of(address), "meta": {}})
}

/// The ids of the ports a cache says the user passed (kept, only unbound, on delete).
pub fn preserved_ports(network_info: &Value) -> HashSet<String> {
    network_info
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| {
            v.get("preserve_on_delete")
                .and_then(Value::as_bool)
                .unwrap_or(false)
        })
        .map(|v| text(v, "id").to_string())
        .collect()
}

/// The port ids of a cache, in order.
pub fn port_ids(network_info: &Value) -> Vec<String> {
    network_info
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| text(v, "id").to_string())
        .filter(|id| !id.is_empty())
        .collect()
}

/// One VIF of the model.
pub fn vif(
    port: &Value,
    network: Option<&Value>,
    subnets: &HashMap<String, Value>,
    floating: &[Value],
    groups: &HashMap<String, String>,
    preserve: bool,
) -> Value {
    let port_id = text(port, "id");
    let network_id = text(port, "network_id");
    let mut by_subnet: Vec<(String, Vec<Value>)> = Vec::new();
    for fixed in port
        .get("fixed_ips")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (subnet_id, address) = (text(fixed, "subnet_id"), text(fixed, "ip_address"));
        let mut entry = ip(address, "fixed");
        let fips: Vec<Value> = floating
            .iter()
            .filter(|f| text(f, "fixed_ip_address") == address)
            .map(|f| ip(text(f, "floating_ip_address"), "floating"))
            .collect();
        entry["floating_ips"] = json!(fips);
        match by_subnet.iter_mut().find(|(s, _)| s == subnet_id) {
            Some((_, ips)) => ips.push(entry),
            None => by_subnet.push((subnet_id.to_string(), vec![entry])),
        }
    }
    let subnet_models: Vec<Value> = by_subnet
        .into_iter()
        .map(|(subnet_id, ips)| {
            let s = subnets.get(&subnet_id).cloned().unwrap_or(Value::Null);
            let gateway = s.get("gateway_ip").and_then(Value::as_str).map(|g| ip(g, "gateway")).unwrap_or(Value::Null);
            let dns: Vec<Value> = s.get("dns_nameservers").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(|d| ip(d, "dns")).collect();
            let routes: Vec<Value> = s
                .get("host_routes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|r| json!({"cidr": text(r, "destination"), "gateway": ip(text(r, "nexthop"), "gateway"), "interface": null, "meta": {}}))
                .collect();
            json!({
                "cidr": s.get("cidr").cloned().unwrap_or(Value::Null),
                "dns": dns,
                "gateway": gateway,
                "ips": ips,
                "routes": routes,
                "version": s.get("ip_version").cloned().unwrap_or(Value::Null),
                "meta": {"dhcp_server": null},
            })
        })
        .collect();
    let label = network.map(|n| text(n, "name")).unwrap_or("");
    let mut network_meta = json!({"injected": false, "tenant_id": text(port, "project_id")});
    if let Some(mtu) = network.and_then(|n| n.get("mtu")).filter(|m| !m.is_null()) {
        network_meta["mtu"] = mtu.clone();
    }
    if let Some(physnet) = network
        .and_then(|n| n.get("provider:physical_network"))
        .filter(|m| !m.is_null())
    {
        network_meta["physical_network"] = physnet.clone();
    }
    let bridge = format!("brq{}", network_id.chars().take(11).collect::<String>());
    let devname: String = format!("tap{port_id}").chars().take(NIC_NAME_LEN).collect();
    let group_names: Vec<Value> = port
        .get("security_groups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|id| json!({"id": id, "name": groups.get(id).cloned().unwrap_or_else(|| id.to_string())}))
        .collect();
    let status = text(port, "status");
    let admin_up = port
        .get("admin_state_up")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    json!({
        "id": port_id,
        "address": text(port, "mac_address"),
        "network": {"id": network_id, "bridge": bridge, "label": label, "subnets": subnet_models, "meta": network_meta},
        "type": port.get("binding:vif_type").cloned().unwrap_or(Value::Null),
        "details": port.get("binding:vif_details").cloned().unwrap_or_else(|| json!({})),
        "devname": devname,
        "ovs_interfaceid": null,
        "qbh_params": null,
        "qbg_params": null,
        "active": !admin_up || status == "ACTIVE",
        "vnic_type": port.get("binding:vnic_type").cloned().unwrap_or_else(|| json!("normal")),
        "profile": port.get("binding:profile").cloned().unwrap_or_else(|| json!({})),
        "preserve_on_delete": preserve,
        "delegate_create": true,
        "meta": {"security_groups": group_names},
    })
}

/// Orders `ports` as `previous` (ids of the old cache), ports new to the cache last in their
/// own order.
fn ordered(mut ports: Vec<Value>, previous: &[String]) -> Vec<Value> {
    ports.sort_by_key(|p| {
        previous
            .iter()
            .position(|id| id == text(p, "id"))
            .unwrap_or(usize::MAX)
    });
    ports
}

/// The ids of a list of documents, for an `id=` filter.
fn ids<'a>(items: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in items.filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == id) {
            out.push(id.to_string());
        }
    }
    out
}

/// `GET /v2.0/<collection>?id=a&id=b…` as a map by id (nothing asked, nothing fetched).
async fn by_id(
    api: &dyn NetworkApi,
    auth: &NetAuth,
    collection: &str,
    wanted: &[String],
) -> Result<HashMap<String, Value>, NetworkError> {
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    let filters: Vec<(&str, &str)> = wanted.iter().map(|id| ("id", id.as_str())).collect();
    Ok(net::list(api, auth, collection, &filters)
        .await?
        .into_iter()
        .map(|d| (text(&d, "id").to_string(), d))
        .collect())
}

/// The model of `ports` (Neutron port documents), read with `auth` (the service's, which sees
/// the binding attributes). `previous` is the old cache (for the order and which ports were
/// the user's); `preserve` adds ports the user passed now.
pub async fn build(
    api: &dyn NetworkApi,
    auth: &NetAuth,
    ports: Vec<Value>,
    previous: &Value,
    preserve: &HashSet<String>,
) -> Result<Value, NetworkError> {
    let ports = ordered(ports, &port_ids(previous));
    let mut preserved = preserved_ports(previous);
    preserved.extend(preserve.iter().cloned());
    let network_ids = ids(ports.iter().map(|p| text(p, "network_id")));
    let subnet_ids = ids(ports.iter().flat_map(|p| {
        p.get("fixed_ips")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|f| text(f, "subnet_id"))
    }));
    let group_ids = ids(ports.iter().flat_map(|p| {
        p.get("security_groups")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    }));
    let networks = by_id(api, auth, "networks", &network_ids).await?;
    let subnets = by_id(api, auth, "subnets", &subnet_ids).await?;
    let groups: HashMap<String, String> = by_id(api, auth, "security_groups", &group_ids)
        .await?
        .into_iter()
        .map(|(id, g)| (id, text(&g, "name").to_string()))
        .collect();
    let port_ids = ids(ports.iter().map(|p| text(p, "id")));
    let floating = if port_ids.is_empty() {
        Vec::new()
    } else {
        let filters: Vec<(&str, &str)> =
            port_ids.iter().map(|id| ("port_id", id.as_str())).collect();
        net::list(api, auth, "floatingips", &filters).await?
    };
    let vifs: Vec<Value> = ports
        .iter()
        .map(|p| {
            let id = text(p, "id");
            let fips: Vec<Value> = floating
                .iter()
                .filter(|f| text(f, "port_id") == id)
                .cloned()
                .collect();
            vif(
                p,
                networks.get(text(p, "network_id")),
                &subnets,
                &fips,
                &groups,
                preserved.contains(id),
            )
        })
        .collect();
    Ok(Value::Array(vifs))
}

/// The instance's ports as Neutron has them now (`device_id` = the instance), modelled.
pub async fn refresh(
    api: &dyn NetworkApi,
    request_id: &str,
    instance_uuid: &str,
    previous: &Value,
) -> Result<Value, NetworkError> {
    let auth = api.service_auth(request_id, false).await?;
    let ports = net::list(api, &auth, "ports", &[("device_id", instance_uuid)]).await?;
    build(api, &auth, ports, previous, &HashSet::new()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_becomes_a_vif_with_fixed_and_floating_ips() {
        let port = json!({"id": "0123456789abcdef", "mac_address": "fa:16:3e:00:00:01", "network_id": "net-1", "project_id": "p", "status": "ACTIVE",
            "fixed_ips": [{"subnet_id": "s1", "ip_address": "10.0.0.5"}, {"subnet_id": "s6", "ip_address": "fd00::5"}],
            "security_groups": ["g1"], "binding:vif_type": "bridge"});
        let network = json!({"id": "net-1", "name": "private", "mtu": 1450});
        let subnets: HashMap<String, Value> = [
            ("s1".to_string(), json!({"id": "s1", "cidr": "10.0.0.0/24", "gateway_ip": "10.0.0.1", "ip_version": 4, "dns_nameservers": ["8.8.8.8"], "host_routes": []})),
            ("s6".to_string(), json!({"id": "s6", "cidr": "fd00::/64", "gateway_ip": null, "ip_version": 6})),
        ]
        .into_iter()
        .collect();
        let fips = vec![
            json!({"floating_ip_address": "172.24.4.9", "fixed_ip_address": "10.0.0.5", "port_id": "0123456789abcdef"}),
        ];
        let groups: HashMap<String, String> = [("g1".to_string(), "web".to_string())]
            .into_iter()
            .collect();
        let v = vif(&port, Some(&network), &subnets, &fips, &groups, true);
        assert_eq!(v["devname"], "tap0123456789a");
        assert_eq!(v["network"]["label"], "private");
        assert_eq!(v["network"]["meta"]["mtu"], 1450);
        assert_eq!(
            v["network"]["subnets"][0]["ips"][0]["floating_ips"][0]["address"],
            "172.24.4.9"
        );
        assert_eq!(v["network"]["subnets"][1]["ips"][0]["version"], 6);
        assert_eq!(v["network"]["subnets"][0]["gateway"]["address"], "10.0.0.1");
        assert_eq!(v["active"], true);
        assert_eq!(v["meta"]["security_groups"][0]["name"], "web");
        let cache = json!([v]);
        assert!(preserved_ports(&cache).contains("0123456789abcdef"));
        let shown = crate::api::servers::view::addresses(Some(&cache), true);
        // As Nova lists them: the fixed addresses, then the floating ones.
        assert_eq!(shown["private"][1]["OS-EXT-IPS:type"], "fixed");
        assert_eq!(shown["private"][2]["OS-EXT-IPS:type"], "floating");
        assert_eq!(shown["private"][2]["addr"], "172.24.4.9");
    }

    #[test]
    fn ports_keep_the_order_of_the_cache() {
        let ports = vec![json!({"id": "b"}), json!({"id": "new"}), json!({"id": "a"})];
        let out: Vec<String> = ordered(ports, &["a".to_string(), "b".to_string()])
            .iter()
            .map(|p| text(p, "id").to_string())
            .collect();
        assert_eq!(out, vec!["a", "b", "new"]);
    }
}
