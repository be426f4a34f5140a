//! The image schema, portable across SQLite, PostgreSQL and MariaDB (BIGINT integers, times in
//! epoch microseconds, booleans as 0/1). Images are soft-deleted as in Glance: a deleted image
//! keeps its row (status `deleted`, `deleted = 1`) so its id is never reused.

use monostack_db::Migration;

pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "image initial schema",
    statements: &[
        "CREATE TABLE images (id VARCHAR(36) PRIMARY KEY, name VARCHAR(255), status VARCHAR(30) NOT NULL, visibility VARCHAR(20) NOT NULL, owner VARCHAR(255), size BIGINT, virtual_size BIGINT, checksum VARCHAR(32), os_hash_algo VARCHAR(64), os_hash_value VARCHAR(128), disk_format VARCHAR(20), container_format VARCHAR(20), min_disk BIGINT NOT NULL, min_ram BIGINT NOT NULL, protected BIGINT NOT NULL, os_hidden BIGINT NOT NULL, stores VARCHAR(255), location TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, deleted BIGINT NOT NULL, deleted_at BIGINT)",
        "CREATE INDEX images_owner ON images (owner)",
        "CREATE INDEX images_visibility ON images (visibility)",
        "CREATE INDEX images_status ON images (status)",
        "CREATE TABLE image_properties (image_id VARCHAR(36) NOT NULL, name VARCHAR(255) NOT NULL, value TEXT NOT NULL, PRIMARY KEY (image_id, name))",
        "CREATE TABLE image_tags (image_id VARCHAR(36) NOT NULL, value VARCHAR(255) NOT NULL, PRIMARY KEY (image_id, value))",
        "CREATE TABLE image_members (image_id VARCHAR(36) NOT NULL, member VARCHAR(255) NOT NULL, status VARCHAR(20) NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (image_id, member))",
        "CREATE INDEX image_members_member ON image_members (member)",
    ],
}, Migration {
    version: 2,
    name: "image tasks",
    statements: &[
        "CREATE TABLE image_tasks (id VARCHAR(36) PRIMARY KEY, task_type VARCHAR(30) NOT NULL, status VARCHAR(30) NOT NULL, owner VARCHAR(255), image_id VARCHAR(36), user_id VARCHAR(64), request_id VARCHAR(64), input TEXT, result TEXT, message TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, expires_at BIGINT)",
        "CREATE INDEX image_tasks_image ON image_tasks (image_id)",
    ],
}];
