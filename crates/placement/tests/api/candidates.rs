//! `GET /allocation_candidates` over HTTP: filters, nested providers, granular groups, and
//! the response shape of each microversion.

use crate::{uuid, Cloud, LATEST};
use http::{Method, StatusCode};
use serde_json::{json, Value};

struct Hosts {
    cn1: String,
    cn2: String,
    numa: Vec<String>,
    nic_ssl: String,
    nic: String,
    agg: String,
}

/// cn1: a host with two NUMA children (VCPU) and two NICs (one with SSL offload), in an
/// aggregate; cn2: a flat host with everything on the root.
async fn hosts(c: &Cloud) -> Hosts {
    let cn1 = c.provider("cn1", None).await;
    c.inventory(&cn1, json!({"MEMORY_MB": {"total": 4096}, "DISK_GB": {"total": 100}})).await;
    let mut numa = Vec::new();
    for i in 0..2 {
        let n = c.provider(&format!("cn1-numa{i}"), Some(&cn1)).await;
        c.inventory(&n, json!({"VCPU": {"total": 4}})).await;
        numa.push(n);
    }
    let nic_ssl = c.provider("cn1-nic0", Some(&cn1)).await;
    let nic = c.provider("cn1-nic1", Some(&cn1)).await;
    for n in [&nic_ssl, &nic] {
        c.inventory(n, json!({"SRIOV_NET_VF": {"total": 8}})).await;
    }
    c.traits(&nic_ssl, &["HW_NIC_ACCEL_SSL"]).await;
    let agg = uuid();
    c.aggregates(&cn1, &[&agg]).await;
    let cn2 = c.provider("cn2", None).await;
    c.inventory(&cn2, json!({"VCPU": {"total": 8}, "MEMORY_MB": {"total": 4096}, "DISK_GB": {"total": 100}})).await;
    c.traits(&cn2, &["HW_CPU_X86_AVX2"]).await;
    Hosts { cn1, cn2, numa, nic_ssl, nic, agg }
}

fn requests(r: &crate::Resp) -> Vec<Value> {
    r.body["allocation_requests"].as_array().cloned().unwrap_or_default()
}

/// The provider uuids of each allocation request, sorted.
fn providers_of(r: &crate::Resp) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = requests(r)
        .iter()
        .map(|a| {
            let mut v: Vec<String> = a["allocations"].as_object().expect("allocations").keys().cloned().collect();
            v.sort();
            v
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn filters_and_nested_providers() {
    let c = Cloud::start().await;
    let h = hosts(&c).await;
    let r = c.get("/allocation_candidates?resources=VCPU:1,MEMORY_MB:512").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(requests(&r).len(), 3, "two NUMA nodes of cn1, and cn2: {}", r.body);
    let sums = &r.body["provider_summaries"];
    assert_eq!(sums.as_object().unwrap().len(), 6, "every provider of both trees");
    assert_eq!(sums[&h.numa[0]]["parent_provider_uuid"], h.cn1.as_str());
    assert_eq!(sums[&h.cn1]["resources"]["MEMORY_MB"], json!({"capacity": 4096, "used": 0}));
    assert_eq!(requests(&r)[0]["mappings"][""].as_array().unwrap().len(), 2);

    let r = c.get("/allocation_candidates?resources=VCPU:1&required=HW_CPU_X86_AVX2").await;
    assert_eq!(providers_of(&r), vec![vec![h.cn2.clone()]]);
    let r = c.get("/allocation_candidates?resources=VCPU:1&required=!HW_CPU_X86_AVX2").await;
    assert_eq!(requests(&r).len(), 2);
    let r = c.get(&format!("/allocation_candidates?resources=VCPU:1&member_of={}", h.agg)).await;
    assert_eq!(requests(&r).len(), 2, "the root's aggregate spans its tree");
    let r = c.get(&format!("/allocation_candidates?resources=VCPU:1&in_tree={}", h.cn2)).await;
    assert_eq!(providers_of(&r), vec![vec![h.cn2.clone()]]);
    let r = c.get("/allocation_candidates?resources=VCPU:1&limit=1").await;
    assert_eq!(requests(&r).len(), 1);
    let r = c.get("/allocation_candidates?resources=VCPU:1,SRIOV_NET_VF:1&required=HW_NIC_ACCEL_SSL").await;
    assert_eq!(requests(&r).len(), 2);
    assert!(providers_of(&r).iter().all(|ps| ps.contains(&h.nic_ssl)));
    let r = c.get("/allocation_candidates?resources=VCPU:100").await;
    assert_eq!(r.body, json!({"allocation_requests": [], "provider_summaries": {}}));

    // Before 1.29 only single-provider trees count.
    let r = c.call(Method::GET, "/allocation_candidates?resources=VCPU:1,MEMORY_MB:512", "1.28", None).await;
    assert_eq!(providers_of(&r), vec![vec![h.cn2.clone()]]);
}

#[tokio::test]
async fn granular_groups_and_policies() {
    let c = Cloud::start().await;
    let h = hosts(&c).await;
    let q = "/allocation_candidates?resources=VCPU:1&resources1=SRIOV_NET_VF:1&required1=HW_NIC_ACCEL_SSL&resources2=SRIOV_NET_VF:1";
    assert_eq!(c.get(q).await.status, StatusCode::BAD_REQUEST, "group_policy is required");
    let r = c.get(&format!("{q}&group_policy=isolate")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(requests(&r).len(), 2, "{}", r.body);
    for a in requests(&r) {
        assert_eq!(a["mappings"]["1"], json!([h.nic_ssl]));
        assert_eq!(a["mappings"]["2"], json!([h.nic]));
    }
    let r = c.get(&format!("{q}&group_policy=none")).await;
    assert_eq!(requests(&r).len(), 4, "both VFs may come from the SSL NIC");
    let r = c.get("/allocation_candidates?resources_CPU=VCPU:1&required_NIC=HW_NIC_ACCEL_SSL&same_subtree=_CPU,_NIC&group_policy=none").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(requests(&r).len(), 0, "a NUMA node is no ancestor of a NIC");
    let r = c.get("/allocation_candidates?resources=VCPU:1&root_required=HW_CPU_X86_AVX2").await;
    assert_eq!(providers_of(&r), vec![vec![h.cn2.clone()]]);
}

#[tokio::test]
async fn shapes_of_each_version_and_errors() {
    let c = Cloud::start().await;
    let h = hosts(&c).await;
    let q = format!("/allocation_candidates?resources=VCPU:1&in_tree={}", h.cn2);
    let old = c.call(Method::GET, "/allocation_candidates?resources=VCPU:1", "1.10", None).await;
    assert_eq!(old.status, StatusCode::OK);
    assert_eq!(old.body["allocation_requests"][0]["allocations"][0]["resource_provider"]["uuid"], h.cn2.as_str());
    assert!(old.body["provider_summaries"][&h.cn2].get("traits").is_none());
    assert_eq!(old.body["provider_summaries"][&h.cn2]["resources"].as_object().unwrap().len(), 1, "only requested classes before 1.27");
    let v = c.call(Method::GET, &q, "1.31", None).await;
    assert_eq!(v.body["allocation_requests"][0]["allocations"][&h.cn2]["resources"]["VCPU"], 1);
    assert!(v.body["allocation_requests"][0].get("mappings").is_none());
    assert_eq!(v.body["provider_summaries"][&h.cn2]["traits"], json!(["HW_CPU_X86_AVX2"]));
    assert_eq!(v.body["provider_summaries"][&h.cn2]["resources"].as_object().unwrap().len(), 3);
    assert_eq!(c.call(Method::GET, &q, "1.30", None).await.status, StatusCode::BAD_REQUEST, "in_tree is 1.31");
    assert_eq!(c.call(Method::GET, "/allocation_candidates?resources=VCPU:1", "1.9", None).await.status, StatusCode::NOT_FOUND);
    for bad in ["resources=CUSTOM_NOPE:1", "resources=VCPU:x", "resources=VCPU:1&required=CUSTOM_NOPE", "required=HW_CPU_X86_AVX2", "resources=VCPU:1&limit=-1", "resources=VCPU:1&bogus=1", "resources=VCPU:1&member_of=junk"] {
        let r = c.get(&format!("/allocation_candidates?{bad}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
        assert_eq!(r.body["errors"][0]["status"], 400);
    }
    let r = c.get("/allocation_candidates?resources=VCPU:1&same_subtree=,_X").await;
    assert_eq!(r.code(), "placement.query.bad_value");
    let r = c.call(Method::GET, "/allocation_candidates?resources=VCPU:1&required=in:HW_CPU_X86_AVX2,HW_NIC_ACCEL_SSL", LATEST, None).await;
    assert_eq!(r.status, StatusCode::OK);
}

/// Candidates come from a cached snapshot; writes made by another placement process on the
/// same database (here a second service) must show in the next answer: usage, capacity,
/// traits, and providers created or deleted.
#[tokio::test]
async fn candidates_follow_writes_made_by_another_process() {
    let c = Cloud::start().await;
    let other = monostack_placement::PlacementService::open(c.identity.identity.config.clone()).await.expect("second placement service");
    let cn = c.provider("cache-cn", None).await;
    c.inventory(&cn, json!({"VCPU": {"total": 2}, "MEMORY_MB": {"total": 1024}})).await;
    let path = "/allocation_candidates?resources=VCPU:1,MEMORY_MB:512";
    let r = c.get(path).await;
    assert_eq!(providers_of(&r), vec![vec![cn.clone()]]);
    assert_eq!(r.body["provider_summaries"][&cn]["resources"]["VCPU"]["used"], 0);

    // Another process takes half, then all of the memory.
    let write = |consumer: &str| monostack_placement::client::consumer_write(
        consumer,
        &monostack_placement::types::PutAllocations {
            allocations: [(cn.clone(), monostack_placement::types::AllocationResources { resources: [("VCPU".to_string(), 1), ("MEMORY_MB".to_string(), 512)].into(), generation: None })].into(),
            project_id: "p1".into(),
            user_id: "u1".into(),
            consumer_generation: None,
            consumer_type: Some("INSTANCE".into()),
            mappings: None,
        },
    );
    other.set_allocations(vec![write(&crate::uuid())]).await.expect("first claim");
    let r = c.get(path).await;
    assert_eq!(providers_of(&r).len(), 1);
    assert_eq!(r.body["provider_summaries"][&cn]["resources"]["MEMORY_MB"]["used"], 512, "{}", r.body);
    let second = crate::uuid();
    other.set_allocations(vec![write(&second)]).await.expect("second claim");
    assert!(requests(&c.get(path).await).is_empty(), "a full provider is no candidate");

    // Freed again; then a required trait set elsewhere; then a new provider and a deleted one.
    other.delete_allocations(&second).await.expect("release");
    assert_eq!(providers_of(&c.get(path).await), vec![vec![cn.clone()]]);
    let avx = format!("{path}&required=HW_CPU_X86_AVX2");
    assert!(requests(&c.get(&avx).await).is_empty());
    other.set_provider_traits(&cn, None, ["HW_CPU_X86_AVX2".to_string()].into()).await.expect("traits");
    assert_eq!(providers_of(&c.get(&avx).await), vec![vec![cn.clone()]]);
    let cn2 = c.provider("cache-cn2", None).await;
    c.inventory(&cn2, json!({"VCPU": {"total": 2}, "MEMORY_MB": {"total": 1024}})).await;
    assert_eq!(providers_of(&c.get(path).await).len(), 2);
    other.delete_provider(&cn2).await.expect("delete provider");
    let r = c.get(path).await;
    assert_eq!(providers_of(&r), vec![vec![cn.clone()]]);
    assert!(r.body["provider_summaries"].get(&cn2).is_none());
}
