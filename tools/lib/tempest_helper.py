"""Helpers for tools/tempest, run with the Python of .venv/tempest.

  write-conf CLOUDS_YAML CLOUD WORKSPACE [OVERRIDES]   write WORKSPACE/etc/tempest.conf
  resolve-list LIST AVAILABLE OUT                     map a list of test ids onto the
                                                      installed ones; report the missing
  summarize SUBUNIT_FILE [REQUIRED]                   count a run's results

write-conf reads MONOSTACK_TEMPEST_HTTP_IMAGE: the URL of a small qcow2 image that the cloud can
download, for the web-download import and task tests (tools/test serves one on 127.0.0.1).
Unset, Tempest's defaults point to cirros images on the internet.

write-conf reads MONOSTACK_TEMPEST_NETWORK too (tools/tempest --network sets it to 1): when it is
1 and the cloud has a network endpoint, neutron is available to Tempest ([service_available]
neutron, [network], [network-feature-enabled] with the extensions GET /v2.0/extensions lists, and
an external network "tempest-public" made once per cloud as public_network_id). Unset, neutron
stays off so that the compute tests keep running without networks.

MONOSTACK_TEMPEST_VOLUME=1 (tools/tempest --volume) does the same for block storage: cinder
available, [volume] with the backends the scheduler's pools report and the newest microversion.
"""

import configparser
import json
import os
import sys
import urllib.error
import urllib.request

import yaml


def _post_json(url, body, headers=None):
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.headers, json.load(resp)


def _get_json(url, token):
    req = urllib.request.Request(url, headers={"X-Auth-Token": token})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)


def _admin_token(auth_url, auth):
    """A project-scoped token of the clouds.yaml admin: (token, catalog)."""
    user_domain = {"name": auth.get("user_domain_name", "Default")}
    if auth.get("user_domain_id"):
        user_domain = {"id": auth["user_domain_id"]}
    project_domain = {"name": auth.get("project_domain_name", "Default")}
    if auth.get("project_domain_id"):
        project_domain = {"id": auth["project_domain_id"]}
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": auth["username"],
                        "password": auth["password"],
                        "domain": user_domain,
                    }
                },
            },
            "scope": {"project": {"name": auth["project_name"], "domain": project_domain}},
        }
    }
    headers, token_body = _post_json(auth_url + "/auth/tokens", body)
    return headers["X-Subject-Token"], token_body["token"].get("catalog", [])


def _default_domain_id(auth_url, auth, token):
    """Asks the running cloud for the id of the admin user's domain (Default)."""
    name = auth.get("user_domain_name", "Default")
    domains = _get_json(auth_url + "/domains?name=" + urllib.request.quote(name), token)
    for dom in domains.get("domains", []):
        if dom.get("name") == name:
            return dom["id"]
    raise LookupError("no domain named %r" % name)


def _public_url(catalog, service_type):
    for service in catalog:
        if service.get("type") == service_type:
            for endpoint in service.get("endpoints", []):
                if endpoint.get("interface") == "public":
                    return endpoint["url"].rstrip("/")
    return None


def _answers(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status < 400
    except (OSError, urllib.error.URLError):
        return False


# The images Tempest boots servers from. The fake virt driver boots anything, so a few bytes
# of raw data do; made once per cloud and found again by name on later runs.
TEMPEST_IMAGES = ("tempest-boot-image", "tempest-boot-image-alt")


def _boot_image(image_url, token, name):
    """The id of the active public image `name`, uploading it if it is not there yet."""
    found = _get_json(image_url + "/v2/images?name=" + urllib.request.quote(name), token)
    for image in found.get("images", []):
        if image.get("status") == "active":
            return image["id"]
    _, image = _post_json(image_url + "/v2/images", {
        "name": name, "disk_format": "raw", "container_format": "bare", "visibility": "public",
    }, {"X-Auth-Token": token})
    req = urllib.request.Request(
        image_url + "/v2/images/%s/file" % image["id"],
        data=b"monostack tempest boot image\n" * 64,
        headers={"X-Auth-Token": token, "Content-Type": "application/octet-stream"},
        method="PUT",
    )
    urllib.request.urlopen(req, timeout=30).close()
    return image["id"]


# The external network Tempest's router and floating IP tests use (public_network_id), made once
# per cloud like the boot images: flat on its own physical network, with a subnet that does not
# overlap project_network_cidr and no DHCP (nothing would serve it).
TEMPEST_PUBLIC_NETWORK = "tempest-public"
TEMPEST_PUBLIC_CIDR = "172.24.4.0/24"


def _network_with_subnet(network_url, token, network, subnet, usable=lambda net: True):
    """The id of the network named network["name"] that has a subnet (and passes `usable`),
    made with `network` and then `subnet` (its network_id filled in) when there is none."""
    name = network["name"]
    found = _get_json(network_url + "/v2.0/networks?name=" + urllib.request.quote(name), token)
    for net in found.get("networks", []):
        if net.get("subnets") and usable(net):
            return net["id"]
    headers = {"X-Auth-Token": token}
    _, body = _post_json(network_url + "/v2.0/networks", {"network": network}, headers)
    net_id = body["network"]["id"]
    _post_json(network_url + "/v2.0/subnets", {"subnet": dict(subnet, name=name + "-subnet", network_id=net_id, ip_version=4)}, headers)
    return net_id


def _public_network(network_url, token):
    """The id of the external network TEMPEST_PUBLIC_NETWORK, made with its subnet if missing."""
    return _network_with_subnet(network_url, token, {
        "name": TEMPEST_PUBLIC_NETWORK, "router:external": True,
        "provider:network_type": "flat", "provider:physical_network": "tempest-public",
    }, {"cidr": TEMPEST_PUBLIC_CIDR, "enable_dhcp": False}, usable=lambda net: net.get("router:external"))


# The network Tempest's servers boot on ([compute] fixed_network_name): shared, so that every
# dynamic project sees it, made once per cloud like the external one.
TEMPEST_SERVER_NETWORK = "tempest-shared"
TEMPEST_SERVER_CIDR = "10.99.0.0/20"


def _server_network(network_url, token):
    """The name of the shared network TEMPEST_SERVER_NETWORK, made with its subnet if missing."""
    _network_with_subnet(network_url, token, {"name": TEMPEST_SERVER_NETWORK, "shared": True},
                         {"cidr": TEMPEST_SERVER_CIDR})
    return TEMPEST_SERVER_NETWORK


def _network_sections(region, network_url, token):
    """[network] and [network-feature-enabled]: the extensions are the ones the server lists."""
    extensions = _get_json(network_url + "/v2.0/extensions", token).get("extensions", [])
    aliases = sorted(ext["alias"] for ext in extensions if ext.get("alias"))
    network = {
        "catalog_type": "network",
        "region": region,
        "endpoint_type": "public",
        "public_network_id": _public_network(network_url, token),
        "floating_network_name": TEMPEST_PUBLIC_NETWORK,
        "project_network_cidr": "10.100.0.0/16",
        "project_network_mask_bits": "28",
        "project_network_v6_cidr": "2001:db8::/48",
        "project_network_v6_mask_bits": "64",
        # No data plane under the fake drivers: nothing is reachable from the test host.
        "project_networks_reachable": "false",
        "shared_physical_network": "false",
        "build_timeout": "60",
    }
    features = {
        "api_extensions": ",".join(aliases),
        "ipv6": "true",
        "ipv6_subnet_attributes": "true",
        "port_admin_state_change": "true",
        "port_security": "true" if "port-security" in aliases else "false",
        "floating_ips": "true" if "router" in aliases else "false",
    }
    return network, features


def _max_version(url):
    """The newest microversion announced by the version document at URL (Cinder's root, which
    answers 300 Multiple Choices)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            body = json.load(resp)
    except urllib.error.HTTPError as exc:
        if exc.code != 300:
            raise
        body = json.load(exc)
    versions = body.get("versions") or [body.get("version", {})]
    return max((v.get("version") or "" for v in versions), key=lambda v: tuple(map(int, v.split("."))) if v else ())


def _volume_answers(volume_url):
    try:
        return bool(_max_version(volume_url.split("/v3", 1)[0] + "/"))
    except (OSError, urllib.error.URLError, ValueError):
        return False


def _volume_sections(region, volume_url, token):
    """[volume] and [volume-feature-enabled], with the backends the scheduler reports."""
    pools = _get_json(volume_url + "/scheduler-stats/get_pools?detail=true", token).get("pools", [])
    caps = [pool.get("capabilities", {}) for pool in pools]
    backends = sorted({c["volume_backend_name"] for c in caps if c.get("volume_backend_name")})
    first = caps[0] if caps else {}
    volume = {
        "catalog_type": "volumev3",
        "region": region,
        "endpoint_type": "public",
        "backend_names": ",".join(backends),
        "storage_protocol": first.get("storage_protocol", "file"),
        "vendor_name": first.get("vendor_name", "monostack"),
        "backup_driver": "posix",
        "disk_format": "raw,qcow2",
        "min_microversion": "3.0",
        "max_microversion": _max_version(volume_url.split("/v3", 1)[0] + "/"),
        "build_timeout": "60",
    }
    features = {
        "multi_backend": "true" if len(backends) > 1 else "false",
        "backup": "true",
        "snapshot": "true",
        "clone": "true",
        "manage_snapshot": "false",
        "manage_volume": "false",
        "replication": "false",
        "extend_attached_volume": "false",
        "extend_volume_with_snapshot": "true",
    }
    return volume, features


def _compute_max_microversion(compute_url):
    """The newest microversion the compute API announces (its v2.1 version document)."""
    with urllib.request.urlopen(compute_url + "/", timeout=5) as resp:
        return json.load(resp)["version"]["version"]


def _compute_hosts(compute_url, token):
    """How many compute services the cloud has (at least 1)."""
    services = _get_json(compute_url + "/os-services?binary=nova-compute", token)
    return max(1, len(services.get("services", [])))


def _compute_sections(region, compute_url, image_url, token):
    """[compute] and [compute-feature-enabled] for the fake-driver compute service."""
    compute = {
        "catalog_type": "compute",
        "region": region,
        "endpoint_type": "public",
        "image_ref": _boot_image(image_url, token, TEMPEST_IMAGES[0]),
        "image_ref_alt": _boot_image(image_url, token, TEMPEST_IMAGES[1]),
        "flavor_ref": "1",
        "flavor_ref_alt": "2",
        # Tempest skips its multi-node tests (cold migration, live migration, ...) below 2.
        "min_compute_nodes": str(_compute_hosts(compute_url, token)),
        "min_microversion": "2.1",
        # Not "latest": Tempest would then run the tests of microversions newer than ours.
        "max_microversion": _compute_max_microversion(compute_url),
        "build_timeout": "60",
    }
    features = {
        "api_extensions": "all",
        "resize": "true",
        "cold_migration": "true",
        "live_migration": "true",
        "block_migration_for_live_migration": "true",
        "pause": "true",
        "suspend": "true",
        "shelve": "true",
        "shelve_migrate": "false",
        "snapshot": "true",
        "rescue": "true",
        "console_output": "true",
        "change_password": "true",
        "personality": "true",
        "config_drive": "true",
        "metadata_service": "false",
        "interface_attach": "false",
        "vnc_console": "false",
        "serial_console": "false",
        "spice_console": "false",
        "swap_volume": "false",
        "volume_multiattach": "false",
        "attach_encrypted_volume": "false",
        "stable_rescue": "true",
        "hostname_fqdn_sanitization": "true",
    }
    return compute, features


# Tempest's ListUserImagesTest uploads random bytes as each of its first six (container, disk)
# format pairs, the disk format varying fastest. The image service checks uploaded bytes against
# the declared disk_format, so the first six disk formats must be ones that take any bytes: raw
# and the opaque ami/ari/aki (raw repeats; a duplicate is harmless). The inspected formats
# follow, so that tests which ask for one of them (web-download wants qcow2) find it listed.
IMAGE_DISK_FORMATS = ["raw", "ami", "ari", "aki", "raw", "raw",
                      "qcow2", "vmdk", "vhd", "vhdx", "vdi", "iso"]
IMAGE_CONTAINER_FORMATS = ["bare", "ami", "ari", "aki", "ovf", "ova", "docker", "compressed"]


def _image_sections(region):
    """The [image] and [image-feature-enabled] sections of tempest.conf."""
    image = {
        "catalog_type": "image",
        "region": region,
        "endpoint_type": "public",
        "disk_formats": ",".join(IMAGE_DISK_FORMATS),
        "container_formats": ",".join(IMAGE_CONTAINER_FORMATS),
        "hashing_algorithm": "sha512",
        # Uploads here are a few KiB on a local disk; a stuck import should fail in a minute,
        # not hold a test worker for Tempest's default five.
        "build_timeout": "60",
        "image_caching_enabled": "false",
        # images_manifest_file stays unset: the format tests need os-test-images' generated
        # corpus, so they skip.
    }
    http_image = os.environ.get("MONOSTACK_TEMPEST_HTTP_IMAGE")
    if http_image:
        image["http_image"] = http_image
        image["http_qcow2_image"] = http_image
    features = {
        "api_v2": "true",  # deprecated in Tempest, like the next two; stated for the reader
        "import_image": "true",
        "os_glance_reserved": "true",
        "do_secure_hash": "true",
        # Off so that ListUserImagesTest runs (it is part of the interop guideline): it uploads
        # random bytes, which the formats chosen above accept. Uploads are still inspected.
        "image_format_enforcement": "false",
        "image_conversion": "false",
        "manage_locations": "false",
        "http_store_enabled": "false",
        "store_weight_enabled": "false",
    }
    return image, features


def write_conf(clouds_yaml, cloud_name, workspace, overrides=None):
    with open(clouds_yaml) as f:
        clouds = (yaml.safe_load(f) or {}).get("clouds") or {}
    if not clouds:
        sys.exit("tempest: no clouds in %s" % clouds_yaml)
    if cloud_name not in clouds:
        if len(clouds) != 1:
            sys.exit("tempest: cloud %r not in %s" % (cloud_name, clouds_yaml))
        cloud_name = next(iter(clouds))
    cloud = clouds[cloud_name]
    auth = cloud.get("auth") or {}
    for key in ("auth_url", "username", "password", "project_name"):
        if not auth.get(key):
            sys.exit("tempest: clouds.yaml cloud %r has no auth.%s" % (cloud_name, key))
    auth_url = auth["auth_url"].rstrip("/")
    if not auth_url.endswith("/v3"):
        auth_url += "/v3"
    region = cloud.get("region_name") or "RegionOne"
    user_domain = auth.get("user_domain_name") or "Default"
    project_domain = auth.get("project_domain_name") or user_domain

    token, catalog = None, []
    try:
        token, catalog = _admin_token(auth_url, auth)
        default_domain_id = _default_domain_id(auth_url, auth, token)
    except (OSError, urllib.error.URLError, KeyError, ValueError, LookupError) as exc:
        print("tempest: could not look up the default domain id (%s); using 'default'" % exc,
              file=sys.stderr)
        default_domain_id = "default"

    conf = configparser.ConfigParser(interpolation=None)
    conf.optionxform = str  # keep option names as written
    conf["DEFAULT"] = {
        "log_dir": os.path.join(workspace, "logs"),
        "log_file": "tempest.log",
        "debug": "true",
    }
    conf["oslo_concurrency"] = {"lock_path": os.path.join(workspace, "tempest_lock")}
    conf["auth"] = {
        "admin_username": auth["username"],
        "admin_password": auth["password"],
        "admin_project_name": auth["project_name"],
        "admin_domain_name": user_domain,
        "admin_user_domain_name": user_domain,
        "admin_project_domain_name": project_domain,
        "use_dynamic_credentials": "true",
        "default_credentials_domain_name": user_domain,
        # Tempest's network tests make their own networks; the compute tests don't use
        # networks yet. No network per test project, then.
        "create_isolated_networks": "false",
    }
    conf["identity"] = {
        "uri_v3": auth_url,
        "auth_version": "v3",
        "region": region,
        "v3_endpoint_type": "public",
        "default_domain_id": default_domain_id,
        "admin_role": "admin",
    }
    conf["identity-feature-enabled"] = {
        "api_v2": "false",
        "api_v2_admin": "false",
        "api_v3": "true",
        "security_compliance": "false",
        "application_credentials": "true",  # an option of older Tempests; harmless
        "access_rules": "true",
        "project_tags": "true",  # an option of older Tempests; harmless
        "domain_specific_drivers": "false",
    }
    conf["service_available"] = {
        name: "false"
        for name in (
            "nova", "glance", "cinder", "neutron", "swift", "horizon", "heat", "aodh",
            "ceilometer", "gnocchi", "panko", "ironic", "ironic_inspector", "sahara",
            "designate", "octavia", "manila", "barbican", "trove", "zaqar", "mistral",
            "magnum", "murano", "senlin", "watcher", "zun", "cloudkitty", "freezer",
        )
    }
    conf["service_available"]["keystone"] = "true"  # not a Tempest option; for the reader
    conf["service_available"]["glance"] = "true"
    conf["image"], conf["image-feature-enabled"] = _image_sections(region)
    compute_url = _public_url(catalog, "compute")
    image_url = _public_url(catalog, "image")
    if token and compute_url and image_url and _answers(compute_url + "/"):
        conf["service_available"]["nova"] = "true"
        conf["compute"], conf["compute-feature-enabled"] = _compute_sections(region, compute_url, image_url, token)
    network_url = _public_url(catalog, "network")
    if os.environ.get("MONOSTACK_TEMPEST_NETWORK") == "1":
        if not (token and network_url and _answers(network_url + "/")):
            sys.exit("tempest: MONOSTACK_TEMPEST_NETWORK=1 but the cloud has no network endpoint that answers")
        network_url = network_url.rstrip("/")
        if network_url.endswith("/v2.0"):
            network_url = network_url[: -len("/v2.0")]
        conf["service_available"]["neutron"] = "true"
        conf["network"], conf["network-feature-enabled"] = _network_sections(region, network_url, token)
        if conf.has_section("compute"):
            conf["compute"]["fixed_network_name"] = _server_network(network_url, token)
    volume_url = _public_url(catalog, "volumev3")
    if os.environ.get("MONOSTACK_TEMPEST_VOLUME") == "1":
        if not (token and volume_url and _volume_answers(volume_url)):
            sys.exit("tempest: MONOSTACK_TEMPEST_VOLUME=1 but the cloud has no volumev3 endpoint that answers")
        conf["service_available"]["cinder"] = "true"
        conf["volume"], conf["volume-feature-enabled"] = _volume_sections(region, volume_url, token)
    conf["validation"] = {"run_validation": "false"}

    if overrides and os.path.isfile(overrides):
        # Read with no default section, so that [DEFAULT] is a section like the others.
        extra = configparser.ConfigParser(interpolation=None, default_section="\x00")
        extra.optionxform = str
        extra.read(overrides)
        for section in extra.sections():
            if section != "DEFAULT" and not conf.has_section(section):
                conf.add_section(section)
            for key, value in extra[section].items():
                conf[section][key] = value

    # oslo.config substitutes $name in values: a literal $ (say, in a password) is $$.
    for section in [conf.default_section] + conf.sections():
        for key, value in conf[section].items():
            if section == conf.default_section or key not in conf.defaults():
                conf[section][key] = value.replace("$", "$$")

    os.makedirs(os.path.join(workspace, "etc"), exist_ok=True)
    os.makedirs(os.path.join(workspace, "logs"), exist_ok=True)
    os.makedirs(os.path.join(workspace, "tempest_lock"), exist_ok=True)
    path = os.path.join(workspace, "etc", "tempest.conf")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("# Written by tools/tempest from %s; edits are overwritten.\n" % clouds_yaml)
        f.write("# Put local changes in tests/tempest/overrides.conf instead.\n")
        conf.write(f)
    print(path)


def _strip_attrs(test_id):
    return test_id.split("[", 1)[0].strip()


def resolve_list(list_file, available_file, out_file):
    """Writes to OUT the installed test ids (with their [id-...] attributes) named in LIST.

    Lines of LIST are test ids with or without attributes; '#' starts a comment. Prints the
    ids that the installed Tempest doesn't have, and exits 3 if none is left to run.
    """
    with open(available_file) as f:
        available = [line.strip() for line in f if line.strip().startswith("tempest")]
    by_name = {}
    for full in available:
        by_name.setdefault(_strip_attrs(full), full)
    wanted, missing = [], []
    with open(list_file) as f:
        for raw in f:
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            full = by_name.get(_strip_attrs(line))
            if full is None:
                missing.append(line)
            elif full not in wanted:
                wanted.append(full)
    with open(out_file, "w") as f:
        f.write("".join(t + "\n" for t in wanted))
    if missing:
        print("tempest: %d test id(s) in %s are not in the installed Tempest:"
              % (len(missing), list_file))
        for t in missing:
            print("tempest:   missing %s" % t)
    print("tempest: %d of %d listed test(s) found" % (len(wanted), len(wanted) + len(missing)))
    print("tempest: missing=%d" % len(missing))
    if not wanted:
        sys.exit(3)


def summarize(subunit_file, required_file=None):
    """Counts a subunit v2 stream; prints failures and the summary line.

    With REQUIRED_FILE (test ids, one a line), each of those must have passed: one that was
    skipped or never ran fails the run too.
    """
    import subunit
    import testtools

    results = {}

    def on_test(test):
        results[test["id"]] = test["status"]

    with open(subunit_file, "rb") as f:
        stream = subunit.ByteStreamToStreamResult(f, non_subunit_name="stdout")
        result = testtools.StreamToDict(on_test)
        result.startTestRun()
        try:
            stream.run(result)
        finally:
            result.stopTestRun()
    passed = sum(1 for s in results.values() if s in ("success", "xfail"))
    skipped = sum(1 for s in results.values() if s == "skip")
    failed_ids = sorted(t for t, s in results.items() if s in ("fail", "uxsuccess"))
    for t in failed_ids:
        print("tempest: FAILED %s" % t)
    print("tempest: passed=%d failed=%d skipped=%d" % (passed, len(failed_ids), skipped))
    not_passed = []
    if required_file:
        with open(required_file) as f:
            required = [line.strip() for line in f if line.strip()]
        # Compare without the [id-...] attributes, in case a stream spells them otherwise.
        by_name = {_strip_attrs(t): s for t, s in results.items()}
        for t in required:
            status = by_name.get(_strip_attrs(t), "not run")
            if status not in ("success", "xfail"):
                not_passed.append(t)
                print("tempest: required test did not pass (%s): %s" % (status, t))
    if failed_ids or not_passed:
        sys.exit(1)
    if passed == 0:
        print("tempest: no test passed")
        sys.exit(2)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "write-conf" and len(args) in (3, 4):
        write_conf(*args)
    elif cmd == "resolve-list" and len(args) == 3:
        resolve_list(*args)
    elif cmd == "summarize" and len(args) in (1, 2):
        summarize(*args)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
