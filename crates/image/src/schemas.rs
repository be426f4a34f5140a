//! The JSON-schema documents served under `/v2/schemas/`, shaped as Glance
//! serves them, and the property lists the API needs to apply them.
//!
//! Clients read these documents rather than hard-coding the image model:
//! python-glanceclient validates create and update arguments against
//! `/v2/schemas/image`, builds its command-line options from the
//! properties that are not `readOnly`, and uses `is_base` to decide how to
//! patch (a base property missing from an image is patched with `replace`,
//! any other with `add`). Types, enums and flags must therefore match
//! Glance exactly; only the descriptions are our own.
//!
//! Glance serves the image documents in full (`additionalProperties`,
//! `links`) and the member documents in their minimal form (name and
//! properties; the collection keeps only its `describedby` link).

use serde_json::{json, Map, Value};

/// Allowed `disk_format` values (Glance's default `[image_format]
/// disk_formats`).
pub const DISK_FORMATS: &[&str] = &[
    "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop",
];

/// Allowed `container_format` values (Glance's default `[image_format]
/// container_formats`).
pub const CONTAINER_FORMATS: &[&str] = &[
    "ami",
    "ari",
    "aki",
    "bare",
    "ovf",
    "ova",
    "docker",
    "compressed",
];

/// Image statuses, in Glance's order.
pub const IMAGE_STATUSES: &[&str] = &[
    "queued",
    "saving",
    "active",
    "killed",
    "deleted",
    "uploading",
    "importing",
    "pending_delete",
    "deactivated",
];

/// Image visibilities.
pub const VISIBILITIES: &[&str] = &["community", "public", "private", "shared"];

/// Statuses of an image membership.
pub const MEMBER_STATUSES: &[&str] = &["pending", "accepted", "rejected"];

/// Properties a PATCH may not touch (any op): 403 "Attribute '…' is
/// read-only.". On create, all of them except `id` are refused with 403
/// too; `id` may be chosen by the client at creation only.
///
/// Glance's PATCH list lacks `stores`, which it only refuses on create;
/// we refuse it in both places, as the schema marks it read-only.
pub const READ_ONLY: &[&str] = &[
    "id",
    "status",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "size",
    "virtual_size",
    "created_at",
    "updated_at",
    "direct_url",
    "self",
    "file",
    "schema",
    "stores",
];

/// Names that can never be set, on create or by PATCH: 403 "Attribute '…'
/// is reserved.". Extra-property names starting with [`RESERVED_PREFIX`]
/// are refused the same way.
pub const RESERVED: &[&str] = &["location", "deleted", "deleted_at"];

/// Prefix of extra-property names kept for the service's own use.
pub const RESERVED_PREFIX: &str = "os_glance";

/// Properties that are columns of the image rather than extra properties:
/// on create these are taken as image attributes and everything else in
/// the body becomes an extra property; PATCH `remove` of any of them is
/// refused with 403 "Property … may not be removed.". (`locations` is a
/// column too but has its own PATCH handling.)
pub const BASE_PROPERTIES: &[&str] = &[
    "checksum",
    "created_at",
    "container_format",
    "disk_format",
    "id",
    "min_disk",
    "min_ram",
    "name",
    "size",
    "virtual_size",
    "status",
    "tags",
    "owner",
    "updated_at",
    "visibility",
    "protected",
    "os_hidden",
];

/// The pattern Glance uses for image ids (any-case hex UUID).
pub const UUID_PATTERN: &str = "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}\
                                -([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$";

/// `GET /v2/schemas/image`.
pub fn image() -> Value {
    let mut properties = image_base_properties();
    properties.extend(image_stock_extra_properties());
    json!({
        "name": "image",
        "properties": properties,
        // Extra properties are free-form, but always strings.
        "additionalProperties": {"type": "string"},
        "links": [
            {"rel": "self", "href": "{self}"},
            {"rel": "enclosure", "href": "{file}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    })
}

/// `GET /v2/schemas/images`.
pub fn images() -> Value {
    json!({
        "name": "images",
        "properties": {
            "images": {"type": "array", "items": image()},
            "first": {"type": "string"},
            "next": {"type": "string"},
            "schema": {"type": "string"},
        },
        "links": [
            {"rel": "first", "href": "{first}"},
            {"rel": "next", "href": "{next}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    })
}

/// `GET /v2/schemas/member`.
pub fn member() -> Value {
    json!({
        "name": "member",
        "properties": member_properties(),
    })
}

/// `GET /v2/schemas/members`.
pub fn members() -> Value {
    json!({
        "name": "members",
        "properties": {
            "members": {"type": "array", "items": member()},
            "schema": {"type": "string"},
        },
        "links": [
            {"rel": "describedby", "href": "{schema}"},
        ],
    })
}

/// The image's own attributes.
fn image_base_properties() -> Map<String, Value> {
    let properties = json!({
        "id": {
            "type": "string",
            "description": "Unique identifier (UUID) of the image.",
            "pattern": UUID_PATTERN,
        },
        "name": {
            "type": ["null", "string"],
            "description": "Human-readable name; need not be unique.",
            "maxLength": 255,
        },
        "status": {
            "type": "string",
            "readOnly": true,
            "description": "Where the image is in its lifecycle.",
            "enum": IMAGE_STATUSES,
        },
        "visibility": {
            "type": "string",
            "description": "Who can see the image.",
            "enum": VISIBILITIES,
        },
        "protected": {
            "type": "boolean",
            "description": "When true the image cannot be deleted.",
        },
        "os_hidden": {
            "type": "boolean",
            "description": "When true the image is left out of default image lists.",
        },
        "checksum": {
            "type": ["null", "string"],
            "readOnly": true,
            "description": "MD5 digest of the image data, kept for older clients.",
            "maxLength": 32,
        },
        "os_hash_algo": {
            "type": ["null", "string"],
            "readOnly": true,
            "description": "Name of the hash algorithm that produced os_hash_value.",
            "maxLength": 64,
        },
        "os_hash_value": {
            "type": ["null", "string"],
            "readOnly": true,
            "description": "Hex digest of the image data computed with os_hash_algo.",
            "maxLength": 128,
        },
        "owner": {
            "type": ["null", "string"],
            "description": "Project that owns the image.",
            "maxLength": 255,
        },
        "size": {
            "type": ["null", "integer"],
            "readOnly": true,
            "description": "Size of the stored image data, in bytes.",
        },
        "virtual_size": {
            "type": ["null", "integer"],
            "readOnly": true,
            "description": "Size of the disk the image represents, in bytes.",
        },
        "container_format": {
            "type": ["null", "string"],
            "description": "Wrapper format around the disk data.",
            "enum": nullable_enum(CONTAINER_FORMATS),
        },
        "disk_format": {
            "type": ["null", "string"],
            "description": "Format of the disk data.",
            "enum": nullable_enum(DISK_FORMATS),
        },
        "created_at": {
            "type": "string",
            "readOnly": true,
            "description": "When the image record was created.",
        },
        "updated_at": {
            "type": "string",
            "readOnly": true,
            "description": "When the image record last changed.",
        },
        "tags": {
            "type": "array",
            "description": "Free-form labels attached to the image.",
            "items": {"type": "string", "maxLength": 255},
        },
        "direct_url": {
            "type": "string",
            "readOnly": true,
            "description": "Backend location of the image data, when the operator exposes it.",
        },
        "min_ram": {
            "type": "integer",
            "description": "Memory needed to boot the image, in MiB.",
        },
        "min_disk": {
            "type": "integer",
            "description": "Disk space needed to boot the image, in GiB.",
        },
        "self": {
            "type": "string",
            "readOnly": true,
            "description": "Path of this image resource.",
        },
        "file": {
            "type": "string",
            "readOnly": true,
            "description": "Path of this image's data.",
        },
        "stores": {
            "type": "string",
            "readOnly": true,
            "description": "Comma-separated ids of the stores holding the data; \
                            only shown when several stores are configured.",
        },
        "schema": {
            "type": "string",
            "readOnly": true,
            "description": "Path of the schema describing this image.",
        },
        "locations": location_list(),
    });
    into_map(properties)
}

/// `locations`: where the data lives, with optional checksums to verify.
fn location_list() -> Value {
    json!({
        "type": "array",
        "description": "Backend locations holding the image data, when the operator exposes them.",
        "items": {
            "type": "object",
            "properties": {
                "url": {"type": "string", "maxLength": 255},
                "metadata": {"type": "object"},
                "validation_data": {
                    "description": "Hashes of the data at this location. They fill \
                                    the image's checksum and hash while it is queued \
                                    and must equal them afterwards.",
                    "type": "object",
                    "writeOnly": true,
                    "additionalProperties": false,
                    "properties": {
                        "checksum": {"type": "string", "minLength": 32, "maxLength": 32},
                        "os_hash_algo": {"type": "string", "maxLength": 64},
                        "os_hash_value": {"type": "string", "maxLength": 128},
                    },
                    "required": ["os_hash_algo", "os_hash_value"],
                },
            },
            "required": ["url", "metadata"],
        },
    })
}

/// The extra properties a stock Glance deployment declares (its shipped
/// `schema-image.json`). They are typed in the schema but stored as extra
/// properties, hence `is_base: false`, which glanceclient relies on.
fn image_stock_extra_properties() -> Map<String, Value> {
    let properties = json!({
        "kernel_id": {
            "type": ["null", "string"],
            "pattern": UUID_PATTERN,
            "description": "Image to boot as the kernel of an AMI-style image.",
            "is_base": false,
        },
        "ramdisk_id": {
            "type": ["null", "string"],
            "pattern": UUID_PATTERN,
            "description": "Image to load as the ramdisk of an AMI-style image.",
            "is_base": false,
        },
        "instance_uuid": {
            "type": "string",
            "description": "Server this image was taken from; informational only.",
            "is_base": false,
        },
        "architecture": {
            "type": "string",
            "description": "CPU architecture the image runs on (e.g. x86_64, aarch64).",
            "is_base": false,
        },
        "os_distro": {
            "type": "string",
            "description": "Short name of the operating system distribution (e.g. ubuntu).",
            "is_base": false,
        },
        "os_version": {
            "type": "string",
            "description": "Distribution version, as the distributor numbers it.",
            "is_base": false,
        },
        "description": {
            "type": "string",
            "description": "Free-text description of the image.",
            "is_base": false,
        },
        "cinder_encryption_key_id": {
            "type": "string",
            "description": "Key-manager id of the key that decrypts volumes made from this image.",
            "is_base": false,
        },
        "cinder_encryption_key_deletion_policy": {
            "type": "string",
            "enum": ["on_image_deletion", "do_not_delete"],
            "description": "Whether deleting the image also deletes the key named by \
                            cinder_encryption_key_id; without it the key is kept.",
            "is_base": false,
        },
    });
    into_map(properties)
}

fn member_properties() -> Value {
    json!({
        "member_id": {
            "type": "string",
            "description": "Project the image is shared with.",
        },
        "image_id": {
            "type": "string",
            "description": "Image being shared.",
            "pattern": UUID_PATTERN,
        },
        "created_at": {
            "type": "string",
            "description": "When the image was shared with the project.",
        },
        "updated_at": {
            "type": "string",
            "description": "When the membership last changed.",
        },
        "status": {
            "type": "string",
            "description": "Whether the project has accepted the shared image.",
            "enum": MEMBER_STATUSES,
        },
        "schema": {
            "type": "string",
            "readOnly": true,
        },
    })
}

/// A format enum that also allows `null`, as an unset format is valid.
fn nullable_enum(values: &[&str]) -> Value {
    let mut all = vec![Value::Null];
    all.extend(values.iter().map(|value| json!(value)));
    Value::Array(all)
}

fn into_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    fn property<'a>(schema: &'a Value, name: &str) -> &'a Value {
        schema["properties"]
            .get(name)
            .unwrap_or_else(|| panic!("missing property {name}"))
    }

    #[test]
    fn documents_round_trip_as_json() {
        for doc in [image(), images(), member(), members()] {
            let text = serde_json::to_string(&doc).unwrap();
            assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), doc);
        }
    }

    #[test]
    fn documents_are_named() {
        assert_eq!(image()["name"], "image");
        assert_eq!(images()["name"], "images");
        assert_eq!(member()["name"], "member");
        assert_eq!(members()["name"], "members");
    }

    #[test]
    fn image_has_every_core_property() {
        let schema = image();
        for name in [
            "id",
            "name",
            "status",
            "visibility",
            "protected",
            "os_hidden",
            "checksum",
            "os_hash_algo",
            "os_hash_value",
            "owner",
            "size",
            "virtual_size",
            "container_format",
            "disk_format",
            "created_at",
            "updated_at",
            "tags",
            "direct_url",
            "min_ram",
            "min_disk",
            "self",
            "file",
            "stores",
            "schema",
            "locations",
        ] {
            let prop = property(&schema, name);
            assert_ne!(prop["is_base"], json!(false), "{name} is a base property");
        }
        assert_eq!(schema["additionalProperties"], json!({"type": "string"}));
        let rels: Vec<_> = schema["links"]
            .as_array()
            .unwrap()
            .iter()
            .map(|link| link["rel"].as_str().unwrap())
            .collect();
        assert_eq!(rels, ["self", "enclosure", "describedby"]);
    }

    #[test]
    fn image_types_match_what_clients_validate() {
        let schema = image();
        let type_of = |name: &str| property(&schema, name)["type"].clone();
        assert_eq!(type_of("min_ram"), json!("integer"));
        assert_eq!(type_of("min_disk"), json!("integer"));
        assert_eq!(type_of("size"), json!(["null", "integer"]));
        assert_eq!(type_of("virtual_size"), json!(["null", "integer"]));
        assert_eq!(type_of("checksum"), json!(["null", "string"]));
        assert_eq!(type_of("os_hash_value"), json!(["null", "string"]));
        assert_eq!(type_of("protected"), json!("boolean"));
        assert_eq!(type_of("os_hidden"), json!("boolean"));
        assert_eq!(type_of("name"), json!(["null", "string"]));
        assert_eq!(property(&schema, "name")["maxLength"], 255);
        assert_eq!(
            property(&schema, "tags")["items"],
            json!({"type": "string", "maxLength": 255})
        );
        let disk = property(&schema, "disk_format")["enum"].as_array().unwrap();
        assert_eq!(disk[0], Value::Null);
        assert_eq!(disk.len(), DISK_FORMATS.len() + 1);
        assert!(disk.contains(&json!("qcow2")));
        let container = property(&schema, "container_format")["enum"]
            .as_array()
            .unwrap();
        assert!(container.contains(&json!("bare")));
        assert_eq!(property(&schema, "id")["pattern"], UUID_PATTERN);
    }

    #[test]
    fn read_only_flags_agree_with_read_only_list() {
        let schema = image();
        for (name, prop) in schema["properties"].as_object().unwrap() {
            let flagged = prop["readOnly"] == json!(true);
            let listed = READ_ONLY.contains(&name.as_str());
            // `id` is writable on create, so the schema does not flag it.
            assert_eq!(flagged, listed && name != "id", "{name}");
        }
        for name in RESERVED {
            assert!(schema["properties"].get(*name).is_none(), "{name}");
        }
    }

    #[test]
    fn base_properties_are_in_the_schema() {
        let schema = image();
        for name in BASE_PROPERTIES {
            property(&schema, name);
        }
    }

    #[test]
    fn stock_extra_properties_are_not_base() {
        let schema = image();
        for name in ["kernel_id", "ramdisk_id", "os_distro", "description"] {
            assert_eq!(property(&schema, name)["is_base"], json!(false), "{name}");
        }
    }

    #[test]
    fn images_collection_embeds_image_schema() {
        let schema = images();
        assert_eq!(property(&schema, "images")["items"], image());
        for name in ["schema", "first", "next"] {
            assert_eq!(property(&schema, name)["type"], "string");
        }
        assert_eq!(schema["links"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn member_documents_have_expected_properties() {
        let schema = member();
        for name in [
            "member_id",
            "image_id",
            "created_at",
            "updated_at",
            "status",
            "schema",
        ] {
            property(&schema, name);
        }
        assert_eq!(
            property(&schema, "status")["enum"],
            json!(["pending", "accepted", "rejected"])
        );
        let collection = members();
        assert_eq!(property(&collection, "members")["items"], member());
        assert_eq!(
            collection["links"],
            json!([{"rel": "describedby", "href": "{schema}"}])
        );
    }

    #[test]
    fn uuid_pattern_is_one_line() {
        assert!(!UUID_PATTERN.contains(char::is_whitespace));
        assert_eq!(UUID_PATTERN.matches("([0-9a-fA-F])").count(), 5);
    }
}
